"""Checks of a whole record state against the catalogues and the registry's own rules.

Pure: the catalogue lookup is an in-memory object passed in.  Every check returns a list of
``field_error`` dicts so a caller sees all problems at once.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, Protocol

from dancu.errors import field_error
from dancu.registry import id_number
from dancu.registry.domain import RESIDENCE_KINDS, PartialDate, PartialDateError, is_email, normalise_phone

Errors = list[dict[str, str]]
BOTH_PROVINCE_LISTS = ("province", "province_63")
CODED_FIELDS: dict[str, tuple[str, ...]] = {
    "sex": ("sex",),
    "ethnic_code": ("ethnic_group",),
    "religion_code": ("religion",),
    "nationality_code": ("country",),
    "blood_type": ("blood_type",),
    "marital_status": ("marital_status",),
    "relation_to_head": ("relation_to_head",),
    "permanent_province": ("province",),
    "temporary_province": ("province",),
    "current_province": ("province",),
    "birth_registration_province": BOTH_PROVINCE_LISTS,
    "birth_place_province": BOTH_PROVINCE_LISTS,
    "home_town_province": BOTH_PROVINCE_LISTS,
}
# Places of the past (birth, home town) may name provinces that no longer exist.
HISTORICAL_FIELDS = frozenset({"birth_registration_province", "birth_place_province", "home_town_province"})
COMMUNE_FIELDS = ("birth_registration_commune", "permanent_commune", "temporary_commune", "current_commune")
REQUIRED_FIELDS = ("full_name", "date_of_birth", "sex", "nationality_code")


class Catalogs(Protocol):
    """What the registry needs of the shared catalogues (dancu.catalogs.service.CatalogLookup)."""

    def has(self, catalog: str, code: str, include_expired: bool = False) -> bool: ...

    def codes(self, catalog: str) -> Collection[str]: ...

    def id_place_codes(self) -> Collection[str]: ...

    def parent(self, catalog: str, code: str) -> str | None: ...


def check_state(state: dict[str, Any], lookup: Catalogs, today: date) -> Errors:
    """Every rule a stored record must satisfy."""
    return [
        *_required(state),
        *_coded(state, lookup),
        *_communes(state, lookup),
        *_dates(state, today),
        *_contacts(state),
        *_relatives(state, lookup),
        *_residences(state),
    ]


def _required(state: dict[str, Any]) -> Errors:
    return [
        field_error(f, "required", f"Thiếu trường bắt buộc '{f}'.", f"'{f}' is required.")
        for f in REQUIRED_FIELDS
        if state.get(f) in (None, "")
    ]


def _unknown(field: str, code: str, catalogs: tuple[str, ...]) -> dict[str, str]:
    names = " / ".join(catalogs)
    return field_error(
        field,
        "unknown_code",
        f"Mã '{code}' không có trong danh mục {names}.",
        f"Code '{code}' is not in catalogue {names}.",
    )


def _coded(state: dict[str, Any], lookup: Catalogs) -> Errors:
    errors = []
    for field, catalogs in CODED_FIELDS.items():
        code = state.get(field)
        expired = field in HISTORICAL_FIELDS
        if code is not None and not any(lookup.has(c, code, include_expired=expired) for c in catalogs):
            errors.append(_unknown(field, code, catalogs))
    return errors


def _communes(state: dict[str, Any], lookup: Catalogs) -> Errors:
    known = _loaded(lookup, "commune")  # the commune list is optional in a deployment
    errors = []
    for field in COMMUNE_FIELDS:
        code = state.get(field)
        if code is None:
            continue
        if state.get(field.replace("_commune", "_province")) is None:
            errors.append(
                field_error(
                    field,
                    "commune_without_province",
                    "Có mã xã nhưng thiếu mã tỉnh.",
                    "A commune needs its province.",
                )
            )
        elif (known and not lookup.has("commune", code)) or (not known and not code.isdigit()):
            errors.append(_unknown(field, code, ("commune",)))
        elif known and lookup.parent("commune", code) != state.get(field.replace("_commune", "_province")):
            province = state.get(field.replace("_commune", "_province"))
            errors.append(field_error(field, "commune_not_in_province",
                                      f"Xã/phường '{code}' không thuộc tỉnh '{province}'.",
                                      f"Commune '{code}' is not in province '{province}'."))
    return errors


def _loaded(lookup: Catalogs, catalog: str) -> bool:
    try:
        return bool(lookup.codes(catalog))
    except LookupError:
        return False


def parse_date(state: dict[str, Any], field: str, errors: Errors) -> PartialDate | None:
    value = state.get(field)
    if value is None:
        return None
    try:
        return PartialDate.parse(value)
    except PartialDateError:
        errors.append(
            field_error(
                field,
                "invalid_date",
                f"Ngày '{value}' không hợp lệ (YYYY, YYYY-MM, YYYY-MM-DD).",
                f"'{value}' is not a valid YYYY, YYYY-MM or YYYY-MM-DD date.",
            )
        )
        return None


def _dates(state: dict[str, Any], today: date) -> Errors:
    errors: Errors = []
    born = parse_date(state, "date_of_birth", errors)
    died = parse_date(state, "death_date", errors)
    if born and born.earliest() > today:
        errors.append(
            field_error(
                "date_of_birth",
                "date_in_future",
                "Ngày sinh ở tương lai.",
                "The date of birth is in the future.",
            )
        )
    if died and died.earliest() > today:
        errors.append(
            field_error(
                "death_date",
                "date_in_future",
                "Ngày chết ở tương lai.",
                "The date of death is in the future.",
            )
        )
    if born and died and not born.can_precede(died):
        errors.append(
            field_error(
                "death_date",
                "death_before_birth",
                "Ngày chết trước ngày sinh.",
                "The date of death is before the date of birth.",
            )
        )
    if (state.get("death_kind") is None) != (state.get("death_date") is None):
        errors.append(
            field_error(
                "death_kind",
                "death_incomplete",
                "Cần cả loại (chết/mất tích) và ngày.",
                "Both the kind (dead/missing) and the date are needed.",
            )
        )
    return errors


def _contacts(state: dict[str, Any]) -> Errors:
    errors = []
    if state.get("phone") is not None and normalise_phone(state["phone"]) is None:
        errors.append(
            field_error(
                "phone",
                "invalid_phone",
                "Số di động không hợp lệ (10 số, bắt đầu bằng 0).",
                "Not a Vietnamese mobile number (10 digits starting 0).",
            )
        )
    if state.get("email") is not None and not is_email(state["email"]):
        errors.append(
            field_error(
                "email", "invalid_email", "Địa chỉ thư điện tử không hợp lệ.", "Not a valid email address."
            )
        )
    return errors


def _relatives(state: dict[str, Any], lookup: Catalogs) -> Errors:
    errors = []
    for index, relative in enumerate(state.get("relatives") or []):
        if not lookup.has("relative_kind", relative["kind"]):
            errors.append(_unknown(f"relatives.{index}.kind", relative["kind"], ("relative_kind",)))
        nationality = relative.get("nationality_code")
        if nationality is not None and not lookup.has("country", nationality):
            errors.append(_unknown(f"relatives.{index}.nationality_code", nationality, ("country",)))
    return errors


def _residences(state: dict[str, Any]) -> Errors:
    errors = []
    for kind in RESIDENCE_KINDS:
        if state.get(f"{kind}_address") is not None and state.get(f"{kind}_province") is None:
            errors.append(
                field_error(
                    f"{kind}_province",
                    "required",
                    "Địa chỉ cần có mã tỉnh.",
                    "An address needs its province code.",
                )
            )
    return errors


def check_personal_id(state: dict[str, Any], lookup: Catalogs) -> Errors:
    """The number is well formed, its place is known, and it encodes the record's birth year and sex."""
    born = parse_date(state, "date_of_birth", [])
    try:
        id_number.check(
            state["personal_id"],
            place_codes=frozenset(lookup.id_place_codes()),
            birth_year=born.year if born else None,
            sex=state.get("sex"),
        )
    except id_number.IdNumberError as error:
        return [field_error("personal_id", error.code, error.message_vi, error.message_en)]
    return []


def id_place_code(province: str | None, lookup: Catalogs) -> str | None:
    """The 3-digit place code of a birth-registration province (63 list: its ID code; 34 list: "0" + code)."""
    if province is None:
        return None
    code = province if len(province) == 3 else "0" + province
    return code if code in lookup.id_place_codes() else None
