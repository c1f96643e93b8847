"""Inspection API (thanh tra, kiểm tra, giám sát) and the resident's access history.

For inspectors of the database manager: every route needs an operator token with the ``inspector`` role
(dancu.operators.auth).  Citizens see their own access history through the portal and SMS, not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from dancu.kit.http import DbSession as DB
from dancu.ledger import inspection
from dancu.ledger.inspection_repository import SearchFilter
from dancu.ledger.schemas import AccessPage, EntryPage, FlagOut, SystemReportOut
from dancu.operators.auth import RequireRole

router = APIRouter(tags=["ledger"])  # included by ledger.routes under /ledger
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refuse it as a client error
MAX_SEQ = 2**63 - 1  # seq is a bigint
Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]
Inspector = Annotated[str, RequireRole("inspector")]  # the authenticated operator's username


def search_filter(
    client_system: Text = None,
    organisation: Annotated[
        str | None,
        Query(max_length=200, pattern=NO_NUL, description="INSTANCE/CLASS/CODE: every subsystem of the member"),
    ] = None,
    personal_id: Annotated[str | None, Query(max_length=20, pattern=NO_NUL)] = None,
    service: Text = None,
    purpose: Text = None,
    result: Text = None,
    error_code: Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SearchFilter:
    return SearchFilter(client_system, organisation, personal_id, service, purpose, result, error_code, since, until)


Filter = Annotated[SearchFilter, Depends(search_filter)]


@router.get("/entries", summary="Search the log (inspectors)")
def search_entries(
    session: DB,
    inspector: Inspector,
    where: Filter,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
) -> EntryPage:
    return inspection.search(session, where, limit, before)


@router.get(
    "/entries.csv",
    summary="Export matching entries as CSV, streamed (inspectors)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_entries(request: Request, where: Filter, inspector: Inspector) -> StreamingResponse:
    database = request.app.state.database

    def lines() -> Iterator[str]:  # its own session: the request's is closed before the body streams
        with database.sessions() as session:
            yield from inspection.csv_lines(session, where)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ledger-entries.csv"'},
    )


@router.get("/reports/systems/{system:path}", summary="Per-system report (inspectors)")
def system_report(
    session: DB,
    inspector: Inspector,
    system: Annotated[str, Path(max_length=200, pattern=NO_NUL)],
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> SystemReportOut:
    return inspection.system_report(session, system, first, last)


@router.get("/flags", summary="Possible misuse on one day (inspectors)")
def misuse_flags(session: DB, inspector: Inspector, day: Annotated[date | None, Query(alias="date")] = None
                 ) -> list[FlagOut]:
    return inspection.misuse_flags(session, day or inspection.vietnam_today())


@router.get(
    "/residents/{personal_id}/access", summary="Who used this resident's data (inspectors)"
)
def access_history(
    session: DB,
    inspector: Inspector,
    personal_id: Annotated[str, Path(max_length=20, pattern=NO_NUL)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
) -> AccessPage:
    return inspection.access_history(session, personal_id, limit, before)
