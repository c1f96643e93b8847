"""HTTP API of the registry (sổ đăng ký dân cư), for the database manager's operators.

Guarded by operator tokens (dancu.operators.auth): ``registrar`` writes (and reads, to write with the
right version); ``registry_reader`` reads.  The recorded actor is the authenticated operator's username.
Every read that discloses resident data is an exchange-log entry first (:mod:`dancu.registry.disclosure`,
:mod:`dancu.ledger.operator_http`): the answer carries its seq in ``X-Dancu-Log-Seq``; no entry, no answer
(``503 ledger_unavailable``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from dancu.errors import PROBLEM_CONTENT_TYPE
from dancu.kit.http import DbSession
from dancu.ledger import operator_http
from dancu.ledger.operator_http import NO_NUL, LedgerLog, ReadBy, answer
from dancu.operators.auth import RequireRole
from dancu.registry import disclosure, queries, service
from dancu.registry.schemas import (
    ChangeView,
    CorrectionRequest,
    DeathRequest,
    MoveRequest,
    ResidentCreate,
    ResidentRecord,
    SearchPage,
)

router = APIRouter(prefix="/registry", tags=["registry"])

Actor = Annotated[str, RequireRole("registrar")]  # the authenticated operator's username
# resident records are personal data: the reader's username and purpose, for the exchange log
Reader = Annotated[disclosure.Reader, ReadBy("registry_reader", "registrar")]


def _text(description: str, max_length: int = 20) -> Any:
    return Query(max_length=max_length, pattern=NO_NUL, description=description)


PersonalIdPath = Annotated[str, Path(description="Số định danh cá nhân — 12-digit personal ID number")]
_PROBLEM: dict[str, Any] = {
    "content": {PROBLEM_CONTENT_TYPE: {}},
    "description": "Problem details (RFC 9457)",
}
ERRORS: dict[int | str, dict[str, Any]] = {status: _PROBLEM for status in (404, 409, 422)}
READ_ERRORS = operator_http.read_responses(ERRORS)


@router.post(
    "/residents",
    status_code=201,
    response_model=ResidentRecord,
    responses=ERRORS,
    summary="Create a resident record (lập hồ sơ công dân)",
)
def create_resident(body: ResidentCreate, session: DbSession, actor: Actor) -> ResidentRecord:
    ctx = service.Context(session, actor=actor, source=body.source, reason=body.reason)
    return service.create_resident(ctx, body)


@router.get(
    "/residents",
    response_model=SearchPage,
    responses=READ_ERRORS,
    summary="Search residents by ID, name (with or without diacritics), date of birth, place",
)
def search_residents(
    session: DbSession,
    reader: Reader,
    log: LedgerLog,
    name: Annotated[str | None, _text("Họ tên — name, with or without diacritics", 200)] = None,
    dob: Annotated[str | None, _text("Ngày sinh — YYYY, YYYY-MM or YYYY-MM-DD")] = None,
    province: Annotated[str | None, _text("Tỉnh thường trú — permanent-residence province code")] = None,
    commune: Annotated[str | None, _text("Xã thường trú — permanent-residence commune code")] = None,
    personal_id: Annotated[str | None, _text("Số định danh cá nhân — personal ID number")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    return answer(disclosure.search_residents(
        session, reader, log, name=name, dob=dob, province=province, commune=commune, personal_id=personal_id,
        limit=limit, offset=offset))


@router.get(
    "/residents/{personal_id}",
    response_model=ResidentRecord,
    responses=READ_ERRORS,
    summary="Read a record with its household and history, now or as of a past time",
)
def read_resident(
    personal_id: PersonalIdPath,
    session: DbSession,
    reader: Reader,
    log: LedgerLog,
    as_of: Annotated[
        datetime | None, Query(description="ISO timestamp; naive = Vietnam time (UTC+7)")
    ] = None,
) -> Response:
    return answer(disclosure.read_resident(session, reader, log, queries.checked_id(personal_id), as_of))


@router.get(
    "/residents/{personal_id}/history",
    response_model=list[ChangeView],
    responses=READ_ERRORS,
    summary="Every change to a record: who, when, from what source, why, field by field",
)
def resident_history(personal_id: PersonalIdPath, session: DbSession, reader: Reader, log: LedgerLog) -> Response:
    return answer(disclosure.resident_history(session, reader, log, queries.checked_id(personal_id)))


@router.post(
    "/residents/{personal_id}/corrections",
    response_model=ResidentRecord,
    responses=ERRORS,
    summary="Correct fields of a record (đính chính), with optimistic concurrency",
)
def correct_resident(
    personal_id: PersonalIdPath, body: CorrectionRequest, session: DbSession, actor: Actor
) -> ResidentRecord:
    ctx = service.Context(session, actor=actor, source=body.source, reason=body.reason)
    return service.correct_resident(ctx, queries.checked_id(personal_id), body)


@router.post(
    "/residents/{personal_id}/death",
    response_model=ResidentRecord,
    responses=ERRORS,
    summary="Record a death or disappearance (chết / mất tích)",
)
def record_death(
    personal_id: PersonalIdPath, body: DeathRequest, session: DbSession, actor: Actor
) -> ResidentRecord:
    ctx = service.Context(session, actor=actor, source=body.source, reason=body.reason)
    return service.record_death(ctx, queries.checked_id(personal_id), body)


@router.post(
    "/residents/{personal_id}/moves",
    response_model=ResidentRecord,
    responses=ERRORS,
    summary="Change residence and, optionally, household (thay đổi nơi cư trú)",
)
def move_resident(
    personal_id: PersonalIdPath, body: MoveRequest, session: DbSession, actor: Actor
) -> ResidentRecord:
    ctx = service.Context(session, actor=actor, source=body.source, reason=body.reason)
    return service.move_resident(ctx, queries.checked_id(personal_id), body)
