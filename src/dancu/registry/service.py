"""Registry rules: create, correct, record death, move; each writes its history row in the same transaction.

Services never commit: the request (``kit.http.db_session``) or the CLI command owns the transaction.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from dancu.config import get_settings
from dancu.errors import ValidationFailed, field_error
from dancu.kit import text
from dancu.registry import numbers
from dancu.registry import repository as repo
from dancu.registry.domain import PartialDate, PartialDateError, diff, is_blocked_by_death, normalise_phone
from dancu.registry.errors import (
    NothingToChange,
    PersonalIdTaken,
    ResidentDeceased,
    ResidentNotFound,
    StaleVersion,
)
from dancu.registry.models import Resident
from dancu.registry.queries import read_record
from dancu.registry.schemas import (
    CorrectionRequest,
    DeathRequest,
    MoveRequest,
    ResidentCreate,
    ResidentFields,
    ResidentRecord,
)
from dancu.registry.validation import Catalogs, Errors, check_personal_id, check_state, id_place_code

HEAD = "00"
_TEXT_FIELDS = (
    "other_name",
    "birth_place",
    "birth_registration_place",
    "home_town",
    "permanent_address",
    "temporary_address",
    "current_address",
    "residence_file_number",
    "email",
)
# Household membership changes through moves, so the household's members stay consistent.
_NOT_CORRECTABLE = frozenset({"household_id"})


def clock() -> datetime:
    return datetime.now(UTC)


def load_catalogs(session: Session) -> Catalogs:
    from dancu.catalogs.service import CatalogLookup

    lookup: Catalogs = CatalogLookup.load(session)
    return lookup


class Context:
    """Who writes, from what source, why, and when; and the catalogues to check against."""

    def __init__(
        self,
        session: Session,
        *,
        actor: str,
        source: str,
        reason: str | None,
        lookup: Catalogs | None = None,
        now: datetime | None = None,
    ) -> None:
        self.session = session
        self.actor, self.source, self.reason = actor, source, reason
        self.lookup = lookup if lookup is not None else load_catalogs(session)
        self.now = now or clock()


def _prepare(state: dict[str, Any]) -> dict[str, Any]:
    """Clean names and free text, canonicalise dates and the phone number."""
    state = dict(state)
    state["full_name"] = text.clean(state.get("full_name") or "")
    for field in _TEXT_FIELDS:
        if isinstance(state.get(field), str):
            state[field] = text.clean(state[field]) or None
    for field in ("date_of_birth", "death_date"):
        with suppress(PartialDateError):  # reported by validation
            state[field] = str(PartialDate.parse(state[field])) if state.get(field) is not None else None
    if state.get("phone") is not None:
        state["phone"] = normalise_phone(state["phone"]) or state["phone"]
    return state


def _link_relatives(session: Session, state: dict[str, Any]) -> None:
    """A relative whose personal ID is in the registry is linked to that resident."""
    relatives = state.get("relatives") or []
    known = repo.resident_ids_of(session, [r["personal_id"] for r in relatives if r.get("personal_id")])
    state["relatives"] = [{**r, "resident_id": known.get(r.get("personal_id") or "")} for r in relatives]


def _household_errors(session: Session, state: dict[str, Any], resident_id: int | None) -> Errors:
    household_id, relation = state.get("household_id"), state.get("relation_to_head")
    if household_id is None:
        return []
    if repo.household(session, household_id) is None:
        return [
            field_error(
                "household_id",
                "household_not_found",
                f"Không có hộ gia đình {household_id}.",
                f"No household {household_id}.",
            )
        ]
    if relation is None:
        return [
            field_error(
                "relation_to_head",
                "required",
                "Cần quan hệ với chủ hộ.",
                "The relation to the household head is required.",
            )
        ]
    head = repo.head_of(session, household_id)
    if relation == HEAD and head is not None and head.resident_id != resident_id:
        return [
            field_error(
                "relation_to_head",
                "household_has_head",
                "Hộ gia đình đã có chủ hộ.",
                "The household already has a head.",
            )
        ]
    return []


def _new_household_errors(state: dict[str, Any]) -> Errors:
    if state.get("permanent_province") is None:
        return [
            field_error(
                "permanent_province",
                "required",
                "Lập hộ mới cần nơi thường trú.",
                "A new household needs the permanent residence.",
            )
        ]
    return []


def _open_household(session: Session, state: dict[str, Any], resident_id: int) -> int:
    row = repo.new_household(
        session,
        head_resident_id=resident_id if state.get("relation_to_head") == HEAD else None,
        residence_file_number=state.get("residence_file_number"),
        province_code=state["permanent_province"],
        commune_code=state.get("permanent_commune"),
        address=state.get("permanent_address"),
    )
    return row.household_id


def _sync_head(session: Session, state: dict[str, Any], resident_id: int) -> None:
    household_id = state.get("household_id")
    if household_id is not None and state.get("relation_to_head") == HEAD:
        row = repo.household(session, household_id, lock=True)
        assert row is not None
        row.head_resident_id = resident_id


def _raise_if(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(errors)


# --- create ---


def create_resident(ctx: Context, payload: ResidentCreate) -> ResidentRecord:
    """A new record with an imported or newly issued personal ID number, and its history row."""
    state = _prepare(payload.model_dump(mode="json", exclude={"source", "reason"}))
    new_household = state.get("household_id") is None and state.get("relation_to_head") is not None
    errors = check_state(state, ctx.lookup, ctx.now.date()) + _number_errors(state, ctx.lookup)
    errors += _new_household_errors(state) if new_household else _household_errors(ctx.session, state, None)
    _raise_if(errors)
    _link_relatives(ctx.session, state)
    resident_id = repo.next_resident_id(ctx.session)
    state["personal_id"] = _assign_number(ctx, state, resident_id)
    if new_household:
        state["household_id"] = _open_household(ctx.session, state, resident_id)
    else:
        _sync_head(ctx.session, state, resident_id)
    resident = Resident(
        resident_id=resident_id,
        version=1,
        created_at=ctx.now,
        updated_at=ctx.now,
        name_folded=text.fold(state["full_name"]),
    )
    repo.write_state(resident, state)
    resident.provenance = _provenance({}, [f for f, v in state.items() if v not in (None, [], {})], ctx)
    ctx.session.add(resident)
    ctx.session.flush()
    _write_sector_ids(ctx, resident_id, state.get("sector_ids"))
    repo.add_change(
        ctx.session,
        resident,
        kind="created",
        actor=ctx.actor,
        source=ctx.source,
        reason=ctx.reason,
        changes=None,
        at=ctx.now,
    )
    ctx.session.flush()
    return read_record(ctx.session, resident)


def _number_errors(state: dict[str, Any], lookup: Catalogs) -> Errors:
    if state.get("personal_id"):
        return check_personal_id(state, lookup)
    errors = []
    if id_place_code(state.get("birth_registration_province"), lookup) is None:
        errors.append(
            field_error(
                "birth_registration_province",
                "required_to_issue",
                "Cần nơi đăng ký khai sinh (mã tỉnh) để cấp số định danh.",
                "A birth-registration province is needed to issue a personal ID number.",
            )
        )
    if state.get("sex") not in ("1", "2"):
        errors.append(
            field_error(
                "sex",
                "required_to_issue",
                "Cần giới tính nam/nữ để cấp số định danh.",
                "Sex (male or female) is needed to issue a personal ID number.",
            )
        )
    return errors


def _assign_number(ctx: Context, state: dict[str, Any], resident_id: int) -> str:
    number = state.get("personal_id")
    if number:
        if not numbers.claim_existing(ctx.session, number, resident_id):
            raise PersonalIdTaken(number)
        return str(number)
    place = id_place_code(state["birth_registration_province"], ctx.lookup)
    assert place is not None
    return numbers.issue(
        ctx.session,
        place_code=place,
        birth_year=PartialDate.parse(state["date_of_birth"]).year,
        sex=state["sex"],
        resident_id=resident_id,
        key=get_settings().id_number_key.encode(),
    )


def _write_sector_ids(ctx: Context, resident_id: int, values: dict[str, str] | None) -> None:
    repo.write_sector_ids(ctx.session, resident_id, values, source=ctx.source, actor=ctx.actor, reason=ctx.reason,
                          at=ctx.now)


def _provenance(current: dict[str, Any], fields: list[str], ctx: Context) -> dict[str, Any]:
    stamp = {"source": ctx.source, "updated_at": ctx.now.isoformat()}
    return {**current, **{field: stamp for field in fields}}


# --- changes to an existing record ---


def _load(ctx: Context, personal_id: str, expected_version: int | None) -> Resident:
    resident = repo.find(ctx.session, personal_id, lock=True)
    if resident is None:
        raise ResidentNotFound(personal_id)
    if expected_version is not None and expected_version != resident.version:
        raise StaleVersion(expected_version, resident.version)
    return resident


def _commit_change(ctx: Context, resident: Resident, after: dict[str, Any], kind: str) -> ResidentRecord:
    before = repo.state_of(resident)
    changes = diff(before, after)
    if not changes:
        raise NothingToChange()
    resident.version += 1
    repo.write_state(resident, after)
    if "sector_ids" in changes:
        _write_sector_ids(ctx, resident.resident_id, after.get("sector_ids"))
    resident.name_folded = text.fold(after["full_name"])
    resident.provenance = _provenance(resident.provenance, list(changes), ctx)
    resident.updated_at = ctx.now
    repo.add_change(
        ctx.session,
        resident,
        kind=kind,
        actor=ctx.actor,
        source=ctx.source,
        reason=ctx.reason,
        changes=changes,
        at=ctx.now,
    )
    ctx.session.flush()
    return read_record(ctx.session, resident)


def _parse_changes(changes: dict[str, Any]) -> dict[str, Any]:
    errors = [
        field_error(
            f,
            "not_correctable",
            f"Trường '{f}' thay đổi qua chuyển nơi cư trú, không qua đính chính.",
            f"'{f}' changes through a move, not a correction.",
        )
        for f in changes
        if f in _NOT_CORRECTABLE
    ]
    try:
        fields = ResidentFields.model_validate(
            {k: v for k, v in changes.items() if k not in _NOT_CORRECTABLE}
        )
    except ValidationError as error:
        errors += [
            field_error(
                ".".join(str(p) for p in e["loc"]),
                "unknown_field" if e["type"] == "extra_forbidden" else e["type"],
                f"Trường không hợp lệ: {e['msg']}",
                e["msg"],
            )
            for e in error.errors()
        ]
        _raise_if(errors)
        raise AssertionError("unreachable") from error
    _raise_if(errors)
    return fields.model_dump(mode="json", include=set(changes))


def correct_resident(ctx: Context, personal_id: str, request: CorrectionRequest) -> ResidentRecord:
    """Đính chính: change any fields (the personal ID only explicitly, here), checked like a new record."""
    resident = _load(ctx, personal_id, request.expected_version)
    before = repo.state_of(resident)
    after = _prepare({**before, **_parse_changes(request.changes)})
    changed = set(diff(before, after))
    if is_blocked_by_death(before, changed):
        raise ResidentDeceased(resident.personal_id)
    errors = check_state(after, ctx.lookup, ctx.now.date())
    if changed & {"personal_id", "date_of_birth", "sex"}:
        errors += check_personal_id(after, ctx.lookup)
    if "relation_to_head" in changed:
        errors += _household_errors(ctx.session, after, resident.resident_id)
    _raise_if(errors)
    if "relatives" in changed:
        _link_relatives(ctx.session, after)
    if "personal_id" in changed and not numbers.claim_existing(
        ctx.session, after["personal_id"], resident.resident_id
    ):
        raise PersonalIdTaken(after["personal_id"])
    if "relation_to_head" in changed:
        if before["relation_to_head"] == HEAD and before["household_id"] is not None:
            _leave_household(ctx.session, before["household_id"], resident.resident_id)
        _sync_head(ctx.session, after, resident.resident_id)
    return _commit_change(
        ctx, resident, after, "personal_id_changed" if "personal_id" in changed else "corrected"
    )


def record_death(ctx: Context, personal_id: str, request: DeathRequest) -> ResidentRecord:
    """Ghi nhận chết / mất tích; recording it again corrects the earlier entry."""
    resident = _load(ctx, personal_id, request.expected_version)
    before = repo.state_of(resident)
    after = _prepare({**before, "death_kind": request.kind, "death_date": request.date})
    _raise_if(check_state(after, ctx.lookup, ctx.now.date()))
    kind = (
        "death_corrected"
        if before["death_kind"]
        else ("death_recorded" if request.kind == "dead" else "missing_recorded")
    )
    return _commit_change(ctx, resident, after, kind)


def move_resident(ctx: Context, personal_id: str, request: MoveRequest) -> ResidentRecord:
    """Thay đổi nơi cư trú: new residences and, optionally, another or a new household."""
    resident = _load(ctx, personal_id, request.expected_version)
    before = repo.state_of(resident)
    if before["death_kind"] is not None:
        raise ResidentDeceased(resident.personal_id)
    after = _prepare({**before, **_residence_values(request)})
    if request.new_household:
        after.update(household_id=None, relation_to_head=request.relation_to_head or HEAD)
        errors = _new_household_errors(after)
    elif request.household_id is not None:
        after.update(household_id=request.household_id, relation_to_head=request.relation_to_head)
        errors = _household_errors(ctx.session, after, resident.resident_id)
    else:
        errors = []
    _raise_if(check_state(after, ctx.lookup, ctx.now.date()) + errors)
    if before["household_id"] is not None and before["household_id"] != after["household_id"]:
        _leave_household(ctx.session, before["household_id"], resident.resident_id)
    if request.new_household:
        after["household_id"] = _open_household(ctx.session, after, resident.resident_id)
    else:
        _sync_head(ctx.session, after, resident.resident_id)
    return _commit_change(ctx, resident, after, "moved")


def _leave_household(session: Session, household_id: int, resident_id: int) -> None:
    row = repo.household(session, household_id, lock=True)
    if row is not None and row.head_resident_id == resident_id:
        row.head_resident_id = None


def _residence_values(request: MoveRequest) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kind in ("permanent", "temporary", "current"):
        residence = getattr(request, kind)
        if residence is not None:
            values.update(
                {
                    f"{kind}_province": residence.province,
                    f"{kind}_commune": residence.commune,
                    f"{kind}_address": residence.address,
                }
            )
    if request.residence_file_number is not None:
        values["residence_file_number"] = request.residence_file_number
    return values
