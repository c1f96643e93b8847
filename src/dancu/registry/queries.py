"""Reading the registry: a record with its household and history, the record as of a past time, search."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from dancu.errors import ValidationFailed, field_error
from dancu.kit.text import fold
from dancu.registry import id_number
from dancu.registry import repository as repo
from dancu.registry.domain import PartialDate, PartialDateError, state_as_of
from dancu.registry.errors import InvalidIdNumber, ResidentNotFound, ResidentNotFoundAtTime, SearchTooBroad
from dancu.registry.models import Resident, ResidentChange
from dancu.registry.schemas import (
    ChangeView,
    HouseholdMember,
    HouseholdView,
    ResidentRecord,
    ResidentView,
    SearchHit,
    SearchPage,
)

VIETNAM_TIME = timezone(timedelta(hours=7))
MAX_PAGE = 100
MIN_NAME_LENGTH = 3


def _find(session: Session, personal_id: str) -> Resident:
    resident = repo.find(session, personal_id)
    if resident is None:
        raise ResidentNotFound(personal_id)
    return resident


def _change_view(row: ResidentChange) -> ChangeView:
    return ChangeView(
        version=row.version,
        recorded_at=row.recorded_at,
        kind=row.kind,
        actor=row.actor,
        source=row.source,
        reason=row.reason,
        changes=row.changes,
    )


def _household_view(session: Session, household_id: int | None) -> HouseholdView | None:
    row = repo.household(session, household_id) if household_id is not None else None
    if row is None:
        return None
    members = repo.household_members(session, row.household_id)
    head = next((m.personal_id for m in members if m.resident_id == row.head_resident_id), None)
    return HouseholdView(
        household_id=row.household_id,
        head_personal_id=head,
        residence_file_number=row.residence_file_number,
        province_code=row.province_code,
        commune_code=row.commune_code,
        address=row.address,
        members=[
            HouseholdMember(
                personal_id=m.personal_id,
                full_name=m.full_name,
                old_id_number=m.old_id_number,
                relation_to_head=m.relation_to_head,
            )
            for m in members
        ],
    )


def read_record(session: Session, resident: Resident) -> ResidentRecord:
    history = repo.history(session, resident.resident_id)
    view = ResidentView(
        resident_id=resident.resident_id,
        version=resident.version,
        fields=repo.state_of(resident),
        provenance={**(resident.provenance or {}), **(resident.sector_provenance or {})},
        created_at=resident.created_at,
        updated_at=resident.updated_at,
    )
    return ResidentRecord(
        resident=view,
        household=_household_view(session, resident.household_id),
        history=[_change_view(row) for row in history],
    )


def read_resident(session: Session, personal_id: str, as_of: datetime | None = None) -> ResidentRecord:
    """The current record, or the record as it stood at ``as_of`` (naive times are Vietnam time, UTC+7)."""
    resident = _find(session, personal_id)
    if as_of is None:
        return read_record(session, resident)
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=VIETNAM_TIME)
    if resident.created_at > as_of:
        raise ResidentNotFoundAtTime(personal_id, as_of.isoformat())
    history = repo.history(session, resident.resident_id)
    past = [row for row in history if row.recorded_at <= as_of]
    later = [row.changes or {} for row in reversed(history) if row.recorded_at > as_of]
    state = state_as_of(repo.state_of(resident), later)
    state["sector_ids"], sector_provenance = repo.sector_ids_at(session, resident.resident_id, as_of)
    view = ResidentView(
        resident_id=resident.resident_id,
        version=past[-1].version if past else 1,
        fields=state,
        provenance={**_provenance_at(past, state), **sector_provenance},
        created_at=resident.created_at,
        updated_at=past[-1].recorded_at if past else resident.created_at,
    )
    return ResidentRecord(
        resident=view,
        household=_household_view(session, state.get("household_id")),
        history=[_change_view(row) for row in past],
        as_of=as_of,
    )


def _provenance_at(past: list[ResidentChange], state: dict[str, Any]) -> dict[str, Any]:
    """Each field's source and time as recorded by the history up to then."""
    provenance: dict[str, Any] = {}
    for row in past:
        stamp = {"source": row.source, "updated_at": row.recorded_at.isoformat()}
        fields = (
            row.changes
            if row.changes is not None
            else {f: v for f, v in state.items() if v not in (None, [], {})}
        )
        provenance.update({field: stamp for field in fields})
    return provenance


def resident_history(session: Session, personal_id: str) -> list[ChangeView]:
    return [_change_view(row) for row in repo.history(session, _find(session, personal_id).resident_id)]


def search_residents(
    session: Session,
    *,
    name: str | None = None,
    dob: str | None = None,
    province: str | None = None,
    commune: str | None = None,
    personal_id: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Residents matching every criterion given; at least one criterion must narrow the search by itself."""
    criteria = _criteria(name, dob, province, commune, personal_id)
    limit = max(1, min(limit, MAX_PAGE))
    rows = repo.search(session, criteria, limit + 1, max(0, offset))
    hits = [
        SearchHit(
            personal_id=r.personal_id,
            full_name=r.full_name,
            date_of_birth=repo.state_of(r)["date_of_birth"],
            sex=r.sex,
            permanent_province=r.permanent_province,
            permanent_commune=r.permanent_commune,
            score=round(score, 4),
        )
        for r, score in rows[:limit]
    ]
    return SearchPage(items=hits, limit=limit, offset=max(0, offset), has_more=len(rows) > limit)


def _criteria(
    name: str | None, dob: str | None, province: str | None, commune: str | None, personal_id: str | None
) -> repo.Criteria:
    folded = fold(name) if name else None
    parsed_dob = None
    if dob:
        try:
            parsed_dob = PartialDate.parse(dob)
        except PartialDateError:
            raise ValidationFailed(
                [
                    field_error(
                        "dob",
                        "invalid_date",
                        f"Ngày '{dob}' không hợp lệ.",
                        f"'{dob}' is not a valid YYYY, YYYY-MM or YYYY-MM-DD date.",
                    )
                ]
            ) from None
    criteria = repo.Criteria(
        personal_id or None, folded or None, parsed_dob, province or None, commune or None
    )
    if not _is_selective(criteria):
        raise SearchTooBroad(
            "Cần ít nhất một điều kiện đủ hẹp: số định danh, họ tên (từ 3 ký tự), ngày sinh có tháng, "
            "hoặc mã xã kèm mã tỉnh.",
            "Give at least one narrowing criterion: personal_id, name (3+ letters), a date of birth with "
            "its month, or a commune with its province.",
        )
    return criteria


def _is_selective(c: repo.Criteria) -> bool:
    return bool(
        c.personal_id
        or (c.name_folded and len(c.name_folded) >= MIN_NAME_LENGTH)
        or (c.dob and c.dob.month)
        or (c.commune and c.province)
    )


def checked_id(personal_id: str) -> str:
    """A personal ID number from a URL, checked for form (12 digits) before it reaches the database."""
    try:
        return id_number.parse(personal_id).number
    except id_number.IdNumberError as error:
        raise InvalidIdNumber(
            error.message_vi,
            error.message_en,
            errors=[field_error("personal_id", error.code, error.message_vi, error.message_en)],
        ) from None
