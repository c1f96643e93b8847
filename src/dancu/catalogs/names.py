"""Names of the shared catalogues and mappings.  Other capabilities depend on these exact strings."""

from __future__ import annotations

from datetime import date

SEX = "sex"
BLOOD_TYPE = "blood_type"
MARITAL_STATUS = "marital_status"
RELATION_TO_HEAD = "relation_to_head"
RELATIVE_KIND = "relative_kind"
ETHNIC_GROUP = "ethnic_group"
ETHNIC_GROUP_1979 = "ethnic_group_1979"
RELIGION = "religion"
COUNTRY = "country"
PROVINCE_63 = "province_63"
PROVINCE = "province"
COMMUNE = "commune"
COMMUNE_63 = "commune_63"

ETHNIC_1979_TO_2008 = f"{ETHNIC_GROUP_1979}->{ETHNIC_GROUP}"
PROVINCE_63_TO_34 = f"{PROVINCE_63}->{PROVINCE}"
COMMUNE_63_TO_2025 = f"{COMMUNE_63}->{COMMUNE}"

CATALOGS: tuple[str, ...] = (
    SEX,
    BLOOD_TYPE,
    MARITAL_STATUS,
    RELATION_TO_HEAD,
    RELATIVE_KIND,
    ETHNIC_GROUP,
    ETHNIC_GROUP_1979,
    RELIGION,
    COUNTRY,
    PROVINCE_63,
    PROVINCE,
    COMMUNE,
    COMMUNE_63,
)
MAPPINGS: tuple[str, ...] = (ETHNIC_1979_TO_2008, PROVINCE_63_TO_34, COMMUNE_63_TO_2025)

ALWAYS = date(1900, 1, 1)  # valid_from of code lists that are not tied to a date (sex, blood type...)
MERGER_2025 = date(2025, 7, 1)  # 34 provinces and the two-level local government take effect


_FILES = {COMMUNE: "communes_2025.csv", COMMUNE_63: "communes_pre2025.csv"}


def catalog_file(catalog: str) -> str:
    return _FILES.get(catalog, f"{catalog}.csv")


def mapping_file(mapping: str) -> str:
    """``province_63->province`` is shipped as ``mapping__province_63__province.csv``."""
    return "mapping__" + mapping.replace("->", "__") + ".csv"
