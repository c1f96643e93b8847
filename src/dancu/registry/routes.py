"""HTTP API of the registry (sổ đăng ký dân cư), for the database manager's operators.

Guarded by operator tokens (dancu.operators.auth): ``registrar`` writes (and reads, to write with the
right version); ``registry_reader`` reads.  The recorded actor is the authenticated operator's username.
Every read that discloses resident data is an exchange-log entry first (:mod:`dancu.registry.disclosure`):
the answer carries its seq in ``X-Dancu-Log-Seq``; no entry, no answer (``503 ledger_unavailable``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from dancu.errors import PROBLEM_CONTENT_TYPE
from dancu.kit.http import DbSession
from dancu.ledger.appending import append_from_thread
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
ReaderName = Annotated[str, RequireRole("registry_reader", "registrar")]  # resident records are personal data
NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL: refuse it at the door (422), not in the database (500)
LOG_SEQ_HEADER = "X-Dancu-Log-Seq"


def _text(description: str, max_length: int = 20) -> Any:
    return Query(max_length=max_length, pattern=NO_NUL, description=description)


def _reader(
    username: ReaderName,
    purpose: Annotated[str | None, _text(
        f"Mục đích — why you read; written to the exchange log (default '{disclosure.DEFAULT_PURPOSE}')", 200)] = None,
) -> disclosure.Reader:
    return disclosure.Reader.of(username, purpose)


def _log(request: Request) -> disclosure.Log:
    """The process's exchange-log writer, reached from this worker thread."""
    writer = request.app.state.ledger_writer
    return lambda entry: append_from_thread(writer, entry)


def _answer(disclosed: disclosure.Disclosed[Any]) -> Response:
    """The JSON whose hash was logged, byte for byte, with the entry's seq."""
    headers = {LOG_SEQ_HEADER: str(disclosed.seq)} if disclosed.seq is not None else None
    return Response(disclosed.body, media_type="application/json", headers=headers)


Reader = Annotated[disclosure.Reader, Depends(_reader)]
LedgerLog = Annotated[disclosure.Log, Depends(_log)]

PersonalIdPath = Annotated[str, Path(description="Số định danh cá nhân — 12-digit personal ID number")]
_PROBLEM: dict[str, Any] = {
    "content": {PROBLEM_CONTENT_TYPE: {}},
    "description": "Problem details (RFC 9457)",
}
ERRORS: dict[int | str, dict[str, Any]] = {status: _PROBLEM for status in (404, 409, 422)}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"headers": {LOG_SEQ_HEADER: {
        "description": "seq of this read's exchange-log entry (absent when nothing was disclosed)",
        "schema": {"type": "integer"}}}},
    503: {**_PROBLEM, "description": "ledger_unavailable: the read could not be logged, so nothing is disclosed"},
}


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
    return _answer(disclosure.search_residents(
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
    return _answer(disclosure.read_resident(session, reader, log, queries.checked_id(personal_id), as_of))


@router.get(
    "/residents/{personal_id}/history",
    response_model=list[ChangeView],
    responses=READ_ERRORS,
    summary="Every change to a record: who, when, from what source, why, field by field",
)
def resident_history(personal_id: PersonalIdPath, session: DbSession, reader: Reader, log: LedgerLog) -> Response:
    return _answer(disclosure.resident_history(session, reader, log, queries.checked_id(personal_id)))


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
