"""HTTP API of sector synchronisation, for the database manager's operators: job reports and the review queue.

Guarded by operator tokens (dancu.operators.auth): the ``reviewer`` role; the recorded actor is its username.
The review queue shows residents' data: every page and every decided item returned is an exchange-log entry
first (:mod:`dancu.sync.disclosure`); the answer carries the seqs in ``X-Dancu-Log-Seq``; no entry, no answer
(``503 ledger_unavailable``, and a decision is not applied).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from dancu.errors import PROBLEM_CONTENT_TYPE
from dancu.kit.http import DbSession
from dancu.ledger import operator_http, operator_reads
from dancu.ledger.operator_http import LedgerLog, ReadBy, answer
from dancu.operators.auth import RequireRole
from dancu.sync import disclosure, service
from dancu.sync.schemas import JobReport, ReviewDecision, ReviewItem, ReviewPage

router = APIRouter(prefix="/sync", tags=["sync"])

Actor = Annotated[str, RequireRole("reviewer")]  # the authenticated operator's username
# the reviewer's username (the recorded actor) and purpose, for the exchange log
Reviewer = Annotated[operator_reads.Reader, ReadBy("reviewer", default_purpose=disclosure.DEFAULT_PURPOSE)]
ItemId = Annotated[str, Path(max_length=40, pattern=r"^[0-9]+-[0-9]+$", description="'<job_id>-<line_no>'")]
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_CONTENT_TYPE: {}}, "description": "Problem details (RFC 9457)"}
ERRORS: dict[int | str, dict[str, Any]] = {status: _PROBLEM for status in (404, 409, 422)}
READ_ERRORS = operator_http.read_responses(ERRORS, several=True)
_CODE = r"^[a-z0-9_:]{1,60}$"


@router.get("/jobs/{job_id}", response_model=JobReport, responses=ERRORS,
            summary="Report of a synchronisation job (counts per outcome and reason, time, records/s)")
def job_report(session: DbSession, actor: Actor, job_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> JobReport:
    return service.job_report(session, job_id)


@router.get("/review", response_model=ReviewPage, responses=READ_ERRORS,
            summary="Records waiting for the database manager's decision (hàng chờ duyệt)")
def list_reviews(
    session: DbSession,
    reader: Reviewer,
    log: LedgerLog,
    job: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="job id")] = None,
    source: Annotated[str | None, Query(pattern=_CODE, description="source code, e.g. bhyt")] = None,
    reason: Annotated[str | None, Query(pattern=_CODE, description="reason code, e.g. name_mismatch")] = None,
    state: Annotated[str, Query(pattern=r"^(open|accepted|rejected)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    return answer(disclosure.list_reviews(session, reader, log, job_id=job, source=source, reason=reason,
                                          state=state, limit=limit, offset=offset))


@router.post("/review/{item_id}/accept", response_model=ReviewItem, responses=READ_ERRORS,
             summary="Accept: apply the sector identifier to the resident, with history")
def accept(session: DbSession, item_id: ItemId, reader: Reviewer, log: LedgerLog,
           body: ReviewDecision | None = None) -> Response:
    return answer(disclosure.accept(session, reader, log, item_id, note=body.note if body else None))


@router.post("/review/{item_id}/reject", response_model=ReviewItem, responses=READ_ERRORS,
             summary="Reject: leave the resident unchanged, with a note")
def reject(session: DbSession, item_id: ItemId, reader: Reviewer, log: LedgerLog,
           body: ReviewDecision | None = None) -> Response:
    return answer(disclosure.reject(session, reader, log, item_id, note=body.note if body else None))
