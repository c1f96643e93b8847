"""CatalogLookup and validate_code."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from dancu.catalogs import names
from dancu.catalogs.repository import EntryRow
from dancu.catalogs.service import CatalogLookup, validate_code

AFTER_MERGER = date(2026, 1, 1)


def test_old_provinces_are_expired_after_the_merger(session: Session) -> None:
    lookup = CatalogLookup.load(session, AFTER_MERGER)
    assert not lookup.has(names.PROVINCE_63, "01")
    assert lookup.has(names.PROVINCE_63, "01", include_expired=True)
    assert lookup.has(names.PROVINCE, "01") and lookup.has(names.PROVINCE, "79")
    assert not lookup.has(names.PROVINCE, "02")  # Hà Giang merged into Tuyên Quang
    assert lookup.codes(names.PROVINCE_63) == frozenset()
    assert len(lookup.codes(names.PROVINCE)) == 34


def test_before_the_merger_only_the_63_exist(session: Session) -> None:
    lookup = CatalogLookup.load(session, date(2020, 1, 1))
    assert len(lookup.codes(names.PROVINCE_63)) == 63
    assert not lookup.has(names.PROVINCE, "01", include_expired=True)  # not yet in force
    assert lookup.name(names.PROVINCE_63, "79") == "Hồ Chí Minh"


def test_lookup_answers(session: Session) -> None:
    lookup = CatalogLookup.load(session)
    assert lookup.codes(names.SEX) == {"0", "1", "2"}
    assert lookup.has(names.RELIGION, "00") and lookup.has(names.COUNTRY, "VN")
    assert lookup.name(names.COUNTRY, "VN") == "Việt Nam"
    assert lookup.name(names.ETHNIC_GROUP, "01") == "Kinh (Việt)"
    assert lookup.has(names.BLOOD_TYPE, "AB-") and lookup.has(names.RELATIVE_KIND, "legal_representative")
    assert len(lookup.codes(names.COMMUNE)) == 3321
    assert lookup.codes("no_such_catalogue") == frozenset()
    assert not lookup.has("no_such_catalogue", "1")
    assert lookup.name(names.SEX, "7") is None


def test_id_place_codes_are_the_63_province_id_codes(session: Session) -> None:
    codes = CatalogLookup.load(session, AFTER_MERGER).id_place_codes()
    assert len(codes) == 63 and {"001", "079", "096"} <= codes and "003" not in codes


def test_map_code(session: Session) -> None:
    lookup = CatalogLookup.load(session)
    assert lookup.map_code(names.PROVINCE_63_TO_34, "02") == "08"
    assert lookup.map_code(names.ETHNIC_1979_TO_2008, "04") == "06"
    assert lookup.map_code(names.ETHNIC_1979_TO_2008, "55") is None
    assert lookup.map_code("nope", "01") is None


def test_lookup_is_cached_until_a_catalogue_changes(session: Session) -> None:
    assert CatalogLookup.load(session, AFTER_MERGER) is CatalogLookup.load(session, AFTER_MERGER)


def test_validate_code(session: Session) -> None:
    lookup = CatalogLookup.load(session)
    assert validate_code(lookup, names.SEX, "1", "sex") is None
    error = validate_code(lookup, names.SEX, "x", "sex")
    assert error is not None
    assert error["code"] == "unknown_code" and error["field"] == "sex"
    assert "sex" in error["message_vi"] and "'x'" in error["message_en"]
    assert validate_code(lookup, names.PROVINCE_63, "01", "birth_place_province", include_expired=True) is None


_SMALL = CatalogLookup(
    date(2026, 1, 1),
    [
        EntryRow("sex", "1", date(1900, 1, 1), None, "Nam", "Male", None, {}),
        EntryRow("province_63", "01", date(2008, 8, 1), date(2025, 7, 1), "Hà Nội", None, None, {"id_code": "001"}),
    ],
    [("province_63->province", "01", "01", None)],
)


@given(catalog=st.text(max_size=30), code=st.one_of(st.text(), st.none(), st.integers()), field=st.text())
def test_validate_code_never_raises(catalog: str, code: object, field: str) -> None:
    result = validate_code(_SMALL, catalog, code, field)
    assert result is None or result["code"] == "unknown_code"
    if result is not None:
        assert len(result["message_en"]) < len(catalog) + 100


def test_pure_lookup_without_a_database() -> None:
    assert _SMALL.has("sex", "1") and not _SMALL.has("province_63", "01")
    assert _SMALL.has("province_63", "01", include_expired=True)
    assert _SMALL.id_place_codes() == {"001"}
    assert _SMALL.map_code("province_63->province", "01") == "01"


def test_old_communes_and_what_they_became(session: Session) -> None:
    lookup = CatalogLookup.load(session, AFTER_MERGER)
    assert not lookup.has(names.COMMUNE_63, "00001")  # Phúc Xá ended with the reform
    assert lookup.has(names.COMMUNE_63, "00001", include_expired=True)
    assert lookup.name(names.COMMUNE_63, "00001") == "Phường Phúc Xá"
    assert lookup.parent(names.COMMUNE_63, "00001") == "01"
    before = CatalogLookup.load(session, date(2025, 6, 30))
    assert len(before.codes(names.COMMUNE_63)) == 10_035 and before.codes(names.COMMUNE) == frozenset()
    mapping = names.COMMUNE_63_TO_2025
    assert lookup.map_code(mapping, "00001") == "00097" and lookup.map_codes(mapping, "00001") == ("00097",)
    went = lookup.map_codes(mapping, "00019")  # Điện Biên, divided between four wards: Ba Đình the main part
    assert went[0] == "00004" and lookup.map_code(mapping, "00019") == "00004"
    assert len(went) == 4 and all(lookup.has(names.COMMUNE, code) for code in went)
    assert lookup.map_codes(mapping, "99999") == () and lookup.map_code(mapping, "99999") is None
    assert lookup.map_codes(names.PROVINCE_63_TO_34, "02") == ("08",)


@given(st.permutations([("00008", "part"), ("00004", "part_main"), ("00025", "part")]))
def test_the_main_part_comes_first_whatever_the_order(targets: list[tuple[str, str]]) -> None:
    lookup = CatalogLookup(date(2026, 1, 1), [], [("m", "00019", to, note) for to, note in targets])
    codes = lookup.map_codes("m", "00019")
    assert codes[0] == "00004" == lookup.map_code("m", "00019")
    assert sorted(codes) == ["00004", "00008", "00025"]
