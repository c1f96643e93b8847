"""Request and response bodies of the registry API (the OpenAPI document is made from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Text = Annotated[str, Field(min_length=1, max_length=500)]
ShortCode = Annotated[str, Field(min_length=1, max_length=20)]
PersonalId = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="Số định danh cá nhân — 12 digits")]
OldIdNumber = Annotated[str, Field(pattern=r"^[0-9]{9}$", description="Số CMND 9 số — old 9-digit ID card")]
DATE_HELP = "YYYY, YYYY-MM or YYYY-MM-DD (partial dates allowed)"


DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class _Strict(BaseModel):
    """Unknown fields are errors; NUL characters (which PostgreSQL cannot store) are refused anywhere."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("NUL characters are not allowed")
        return data


class IdCard(_Strict):
    """One card issued (Điều 9 item 14)."""

    kind: Literal["can_cuoc", "cccd", "cmnd12"] = Field(
        description="Thẻ căn cước / thẻ CCCD / CMND 12 số — kind of card"
    )
    number: Annotated[str, Field(pattern=r"^[0-9]{9,12}$")] | None = Field(None, description="Card number")
    issued_on: date = Field(description="Ngày cấp — issue date")
    issued_by: Text | None = Field(None, description="Nơi cấp — issuing authority")
    valid_until: date | None = Field(None, description="Thời hạn sử dụng — valid until (none: no expiry)")


class Relative(_Strict):
    """A relative (Điều 9 item 15): linked to a resident when the personal ID is in the registry."""

    kind: ShortCode = Field(
        description="Quan hệ — catalogue relative_kind (father, mother, spouse, child, "
        "legal_representative, represented_person)"
    )
    personal_id: PersonalId | None = None
    full_name: Text = Field(description="Họ, chữ đệm và tên — full name")
    old_id_number: OldIdNumber | None = None
    nationality_code: ShortCode | None = Field(
        None, description="Quốc tịch — catalogue country (ISO alpha-2)"
    )
    resident_id: DbId | None = Field(None, description="Set by the registry when the relative is a resident")


class TemporaryAbsence(_Strict):
    """Tình trạng khai báo tạm vắng — a declared temporary absence (Điều 9 item 19)."""

    from_date: date = Field(description="Từ ngày — from")
    to_date: date | None = Field(None, description="Đến ngày — until")
    destination: Text | None = Field(None, description="Nơi đến — where to")
    reason: Text | None = Field(None, description="Lý do — reason")


_F = Field  # keeps the long field list below readable


class ResidentFields(_Strict):
    """Every field of a record that a caller may write; used as-is for corrections (all optional)."""

    personal_id: PersonalId | None = None
    full_name: Text | None = _F(None, description="Họ, chữ đệm và tên khai sinh — birth name (item 1)")
    other_name: Text | None = _F(None, description="Tên gọi khác — other name (item 2)")
    date_of_birth: Annotated[str, Field(max_length=20)] | None = _F(
        None, description=f"Ngày, tháng, năm sinh — date of birth (item 4), {DATE_HELP}"
    )
    sex: ShortCode | None = _F(
        None, description="Giới tính — catalogue sex, ISO 5218: 0 unknown, 1 male, 2 female"
    )
    birth_place: Text | None = _F(None, description="Nơi sinh — place of birth, as written (item 6)")
    birth_place_province: ShortCode | None = _F(None, description="Nơi sinh: tỉnh — province (63 or 34 list)")
    birth_registration_province: ShortCode | None = _F(
        None,
        description="Nơi đăng ký khai sinh: tỉnh — birth-registration province (item 7), province_63 or "
        "province code; gives the first 3 digits of a newly issued personal ID number",
    )
    birth_registration_commune: ShortCode | None = _F(None, description="Nơi đăng ký khai sinh: xã — commune")
    birth_registration_place: Text | None = _F(None, description="Nơi đăng ký khai sinh — as written")
    home_town: Text | None = _F(None, description="Quê quán — home town (item 8)")
    home_town_province: ShortCode | None = _F(None, description="Quê quán: tỉnh — province (63 or 34 list)")
    ethnic_code: ShortCode | None = _F(None, description="Dân tộc — catalogue ethnic_group (item 9)")
    religion_code: ShortCode | None = _F(None, description="Tôn giáo — catalogue religion, 00 none (item 10)")
    nationality_code: ShortCode | None = _F(None, description="Quốc tịch — catalogue country (item 11)")
    blood_type: ShortCode | None = _F(None, description="Nhóm máu — catalogue blood_type (item 12)")
    old_id_number: OldIdNumber | None = _F(None, description="Số CMND 9 số — old 9-digit ID number (item 13)")
    id_cards: list[IdCard] | None = _F(None, description="Thẻ đã cấp — cards issued (item 14)")
    relatives: list[Relative] | None = _F(
        None, description="Cha, mẹ, vợ, chồng, con, người đại diện — item 15"
    )
    permanent_province: ShortCode | None = _F(
        None, description="Nơi thường trú: tỉnh — permanent residence (item 16), catalogue province (34)"
    )
    permanent_commune: ShortCode | None = _F(None, description="Nơi thường trú: xã — commune")
    permanent_address: Text | None = _F(None, description="Nơi thường trú: địa chỉ — address")
    temporary_province: ShortCode | None = _F(
        None, description="Nơi tạm trú: tỉnh — temporary residence (item 17)"
    )
    temporary_commune: ShortCode | None = _F(None, description="Nơi tạm trú: xã — commune")
    temporary_address: Text | None = _F(None, description="Nơi tạm trú: địa chỉ — address")
    current_province: ShortCode | None = _F(
        None, description="Nơi ở hiện tại: tỉnh — current residence (item 18)"
    )
    current_commune: ShortCode | None = _F(None, description="Nơi ở hiện tại: xã — commune")
    current_address: Text | None = _F(None, description="Nơi ở hiện tại: địa chỉ — address")
    temporary_absence: TemporaryAbsence | None = _F(None, description="Tạm vắng — item 19")
    residence_file_number: Text | None = _F(None, description="Số hồ sơ cư trú — residence file (item 20)")
    marital_status: ShortCode | None = _F(
        None, description="Tình trạng hôn nhân — catalogue marital_status (item 21)"
    )
    relation_to_head: ShortCode | None = _F(
        None, description="Quan hệ với chủ hộ — catalogue relation_to_head, 00 head (item 22)"
    )
    death_kind: Literal["dead", "missing"] | None = _F(None, description="Chết / mất tích — item 24")
    death_date: Annotated[str, Field(max_length=20)] | None = _F(
        None, description=f"Ngày chết hoặc mất tích — {DATE_HELP}"
    )
    phone: Annotated[str, Field(max_length=30)] | None = _F(
        None, description="Số thuê bao di động — mobile number (item 25); stored as 10 digits starting 0"
    )
    email: Annotated[str, Field(max_length=254)] | None = _F(
        None, description="Thư điện tử — email (item 25)"
    )
    sector_ids: dict[Annotated[str, Field(max_length=50)], Annotated[str, Field(max_length=100)]] | None = _F(
        None, description="Thông tin khác — sector identifiers (health insurance, tax code…) (item 26)"
    )


class Provenance(BaseModel):
    source: str
    reason: str | None = Field(None, description="Lý do — why the change was made")


class ResidentCreate(ResidentFields):
    """A new record.  Omit personal_id to have one issued; give it to import a number issued elsewhere."""

    full_name: Text = _F(description="Họ, chữ đệm và tên khai sinh — birth name (item 1)")
    date_of_birth: Annotated[str, Field(max_length=20)] = _F(
        description=f"Ngày, tháng, năm sinh — date of birth (item 4), {DATE_HELP}"
    )
    sex: ShortCode = _F(description="Giới tính — catalogue sex, ISO 5218: 0 unknown, 1 male, 2 female")
    nationality_code: ShortCode = _F("VN", description="Quốc tịch — catalogue country (item 11)")
    household_id: DbId | None = _F(
        None,
        description="Hộ gia đình — join this household; omit with "
        "relation_to_head to start a new one at the permanent address",
    )
    source: Text = _F(description="Nguồn — where the data comes from (e.g. 'birth_registration', 'import:…')")
    reason: Text | None = _F(None, description="Lý do — why")


class CorrectionRequest(_Strict):
    """Đính chính — correct fields.  Changing personal_id is allowed only here, explicitly."""

    changes: dict[str, Any] = _F(
        description="field → new value (null clears it); field names as in the record", min_length=1
    )
    expected_version: Version = _F(description="The version you read; a newer one gives 409 stale_version")
    reason: Text = _F(description="Lý do đính chính — reason, e.g. the decision or document")
    source: Text = _F("operator", description="Nguồn — source of the corrected data")


class DeathRequest(_Strict):
    """Ghi nhận chết hoặc mất tích — record a death or a disappearance."""

    date: Annotated[str, Field(max_length=20)] = _F(description=f"Ngày chết/mất tích — {DATE_HELP}")
    kind: Literal["dead", "missing"] = "dead"
    expected_version: Version | None = None
    reason: Text | None = _F(None, description="Lý do — e.g. the death certificate number")
    source: Text = "operator"


class Residence(_Strict):
    province: ShortCode = _F(description="Tỉnh — catalogue province (34)")
    commune: ShortCode | None = _F(None, description="Xã — commune code")
    address: Text | None = _F(None, description="Địa chỉ — address text")


class MoveRequest(_Strict):
    """Thay đổi nơi cư trú — a new permanent, temporary and/or current residence."""

    permanent: Residence | None = None
    temporary: Residence | None = None
    current: Residence | None = None
    household_id: DbId | None = _F(None, description="Join this existing household")
    new_household: bool = _F(False, description="Start a new household at the new permanent residence")
    relation_to_head: ShortCode | None = _F(None, description="Quan hệ với chủ hộ in the household joined")
    residence_file_number: Text | None = None
    expected_version: Version | None = None
    reason: Text | None = None
    source: Text = "operator"


class HouseholdMember(BaseModel):
    personal_id: str
    full_name: str
    old_id_number: str | None
    relation_to_head: str | None


class HouseholdView(BaseModel):
    """Hộ gia đình — the household and its members (Điều 9 item 23)."""

    household_id: int
    head_personal_id: str | None
    residence_file_number: str | None
    province_code: str
    commune_code: str | None
    address: str | None
    members: list[HouseholdMember]


class ChangeView(BaseModel):
    version: int
    recorded_at: datetime
    kind: str = Field(description="created, corrected, personal_id_changed, death_recorded, moved")
    actor: str
    source: str
    reason: str | None
    changes: dict[str, list[Any]] | None = Field(description="field → [old, new]; null for creation")


class ResidentView(BaseModel):
    """The record: every Điều 9 field by name, its version and each field's source (provenance)."""

    resident_id: int
    version: int
    fields: dict[str, Any] = Field(description="field → value (see ResidentFields for each field's meaning)")
    provenance: dict[str, Any] = Field(description="field → {source, updated_at}")
    created_at: datetime
    updated_at: datetime


class ResidentRecord(BaseModel):
    resident: ResidentView
    household: HouseholdView | None
    history: list[ChangeView]
    as_of: datetime | None = Field(None, description="Set when this is the record as it stood at that time")


class SearchHit(BaseModel):
    personal_id: str
    full_name: str
    date_of_birth: str
    sex: str
    permanent_province: str | None
    permanent_commune: str | None
    score: float = Field(description="Name similarity 0–1 (1 when no name was searched)")


class SearchPage(BaseModel):
    items: list[SearchHit]
    limit: int
    offset: int
    has_more: bool
