"""Every SQL statement of the registry, and the mapping between a ``resident`` row and a record state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session

from dancu.registry.domain import RECORD_FIELDS, PartialDate
from dancu.registry.models import (
    RESIDENT_ID_SEQ,
    Household,
    PersonalIdNumber,
    Resident,
    ResidentChange,
    ResidentSectorId,
    ResidentSectorIdHistory,
)

_DATE_FIELDS = {"date_of_birth": "dob", "death_date": "death"}
_PLAIN_FIELDS = tuple(f for f in RECORD_FIELDS if f not in _DATE_FIELDS)
_WRITTEN_FIELDS = tuple(f for f in _PLAIN_FIELDS if f != "sector_ids")  # sector_ids: write_sector_ids


# For raw-SQL readers of ``resident`` (exchange retrieve): the record's sector identifiers and their provenance,
# as the ORM's Resident.sector_ids / sector_provenance read them.
SECTOR_COLUMNS = """
    (SELECT coalesce(jsonb_object_agg(s.sector_key, s.value), '{}') FROM resident_sector_id s
     WHERE s.resident_id = resident.resident_id) AS sector_ids,
    (SELECT coalesce(jsonb_object_agg('sector_ids.' || s.sector_key, jsonb_build_object(
         'source', s.source, 'updated_at', s.linked_at, 'job_id', s.job_id, 'line_no', s.line_no)), '{}')
     FROM resident_sector_id s WHERE s.resident_id = resident.resident_id) AS sector_provenance"""


def state_of(resident: Resident) -> dict[str, Any]:
    """The record state (see domain) of a row."""
    state = {field: getattr(resident, field) for field in _PLAIN_FIELDS}
    for field, prefix in _DATE_FIELDS.items():
        year = getattr(resident, f"{prefix}_year")
        parts = (year, getattr(resident, f"{prefix}_month"), getattr(resident, f"{prefix}_day"))
        state[field] = None if year is None else str(PartialDate(*parts))
    return state


def write_state(resident: Resident, state: dict[str, Any]) -> None:
    """The row's own columns; sector identifiers live in their own table (:func:`write_sector_ids`)."""
    for field in _WRITTEN_FIELDS:
        setattr(resident, field, state.get(field))
    for field, prefix in _DATE_FIELDS.items():
        value = state.get(field)
        parsed = PartialDate.parse(value) if value is not None else None
        setattr(resident, f"{prefix}_year", parsed.year if parsed else None)
        setattr(resident, f"{prefix}_month", parsed.month if parsed else None)
        setattr(resident, f"{prefix}_day", parsed.day if parsed else None)


def write_sector_ids(session: Session, resident_id: int, values: dict[str, str] | None, *, source: str,
                     actor: str, reason: str | None, at: datetime) -> None:
    """Make the resident's sector identifiers ``values``: a changed or removed value goes to the history first."""
    wanted = dict(values or {})
    rows = {row.sector_key: row for row in session.scalars(
        select(ResidentSectorId).where(ResidentSectorId.resident_id == resident_id).with_for_update())}
    for key, row in rows.items():
        if wanted.get(key) == row.value:
            continue
        session.add(ResidentSectorIdHistory(
            resident_id=resident_id, sector_key=key, value=row.value, source=row.source, job_id=row.job_id,
            line_no=row.line_no, linked_at=row.linked_at, replaced_at=at, replaced_by=actor, reason=reason))
        session.delete(row)
    session.flush()
    for key, value in wanted.items():
        if key not in rows or rows[key].value != value:
            session.add(ResidentSectorId(resident_id=resident_id, sector_key=key, value=value, source=source,
                                         linked_at=at))
    session.flush()
    resident = session.get(Resident, resident_id)
    if resident is not None:
        session.expire(resident, ["sector_ids", "sector_provenance"])


def sector_ids_at(session: Session, resident_id: int, at: datetime) -> tuple[dict[str, str], dict[str, Any]]:
    """The sector identifiers as they stood at ``at``, and their provenance: the current rows linked by then,
    and superseded values that were live then."""
    current = select(ResidentSectorId.sector_key, ResidentSectorId.value, ResidentSectorId.source,
                     ResidentSectorId.linked_at).where(
        ResidentSectorId.resident_id == resident_id, ResidentSectorId.linked_at <= at)
    old = select(ResidentSectorIdHistory.sector_key, ResidentSectorIdHistory.value, ResidentSectorIdHistory.source,
                 ResidentSectorIdHistory.linked_at).where(
        ResidentSectorIdHistory.resident_id == resident_id, ResidentSectorIdHistory.linked_at <= at,
        ResidentSectorIdHistory.replaced_at > at)
    values: dict[str, str] = {}
    provenance: dict[str, Any] = {}
    for key, value, source, linked_at in session.execute(current.union_all(old)):
        values[key] = value
        provenance[f"sector_ids.{key}"] = {"source": source, "updated_at": linked_at.isoformat()}
    return values, provenance


def next_resident_id(session: Session) -> int:
    return int(session.execute(select(RESIDENT_ID_SEQ.next_value())).scalar_one())


def find(session: Session, personal_id: str, *, lock: bool = False) -> Resident | None:
    """The resident holding ``personal_id`` now (or, failing that, who held it before a correction)."""
    query = select(Resident).where(Resident.personal_id == personal_id)
    resident = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if resident is not None or lock:
        return resident
    owner = session.get(PersonalIdNumber, personal_id)
    if owner is None or owner.resident_id is None:
        return None
    return session.get(Resident, owner.resident_id)


def resident_ids_of(session: Session, personal_ids: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(Resident.personal_id, Resident.resident_id).where(Resident.personal_id.in_(personal_ids))
    )
    return {personal_id: resident_id for personal_id, resident_id in rows}


def add_change(
    session: Session,
    resident: Resident,
    *,
    kind: str,
    actor: str,
    source: str,
    reason: str | None,
    changes: dict[str, list[Any]] | None,
    at: datetime,
) -> None:
    session.add(
        ResidentChange(
            resident_id=resident.resident_id,
            version=resident.version,
            recorded_at=at,
            kind=kind,
            actor=actor,
            source=source,
            reason=reason,
            changes=changes,
        )
    )


def history(session: Session, resident_id: int) -> list[ResidentChange]:
    return list(
        session.scalars(
            select(ResidentChange)
            .where(ResidentChange.resident_id == resident_id)
            .order_by(ResidentChange.version)
        )
    )


def household(session: Session, household_id: int, *, lock: bool = False) -> Household | None:
    return session.get(Household, household_id, with_for_update=lock)


def new_household(session: Session, **values: Any) -> Household:
    row = Household(**values)
    session.add(row)
    session.flush()
    return row


def household_members(session: Session, household_id: int) -> list[Resident]:
    return list(
        session.scalars(
            select(Resident)
            .where(Resident.household_id == household_id)
            .order_by(Resident.relation_to_head, Resident.resident_id)
        )
    )


def head_of(session: Session, household_id: int) -> Resident | None:
    return session.scalars(
        select(Resident)
        .where(Resident.household_id == household_id, Resident.relation_to_head == "00")
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Criteria:
    personal_id: str | None = None
    name_folded: str | None = None
    dob: PartialDate | None = None
    province: str | None = None
    commune: str | None = None


def search(session: Session, criteria: Criteria, limit: int, offset: int) -> list[tuple[Resident, float]]:
    """Residents matching every criterion given; by name: exact folded match first, then by similarity."""
    score: ColumnElement[Any] = literal(1.0)
    query: Select[Any] = select(Resident)
    for condition in _conditions(criteria):
        query = query.where(condition)
    order: list[Any] = [Resident.resident_id]
    if criteria.name_folded:
        score = func.similarity(Resident.name_folded, criteria.name_folded)
        order = [(Resident.name_folded == criteria.name_folded).desc(), score.desc(), *order]
    rows = session.execute(query.add_columns(score).order_by(*order).limit(limit).offset(offset))
    return [(resident, float(value)) for resident, value in rows]


def _conditions(criteria: Criteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.personal_id:
        conditions.append(Resident.personal_id == criteria.personal_id)
    if criteria.name_folded:
        q = criteria.name_folded
        prefix = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                Resident.name_folded.op("%")(q),
                literal(q).op("<%")(Resident.name_folded),
                Resident.name_folded.like(prefix, escape="\\"),
            )
        )
    if criteria.dob:
        dob = criteria.dob
        # A record whose month or day is unknown stays a candidate for a more precise query.
        parts = [Resident.dob_year == dob.year]
        parts += [or_(Resident.dob_month == dob.month, Resident.dob_month.is_(None))] if dob.month else []
        parts += [or_(Resident.dob_day == dob.day, Resident.dob_day.is_(None))] if dob.day else []
        conditions.append(and_(*parts))
    if criteria.province:
        conditions.append(Resident.permanent_province == criteria.province)
    if criteria.commune:
        conditions.append(Resident.permanent_commune == criteria.commune)
    return conditions
