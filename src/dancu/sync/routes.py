"""HTTP API of sector synchronisation, for the database manager's operators: job reports and the review queue.

Guarded by operator tokens (dancu.operators.auth): the ``reviewer`` role; the recorded actor is its username.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from dancu.errors import PROBLEM_CONTENT_TYPE
from dancu.kit.http import DbSession
from dancu.operators.auth import RequireRole
from dancu.sync import service
from dancu.sync.schemas import JobReport, ReviewDecision, ReviewItem, ReviewPage

router = APIRouter(prefix="/sync", tags=["sync"])

Actor = Annotated[str, RequireRole("reviewer")]  # the authenticated operator's username
ItemId = Annotated[str, Path(max_length=40, pattern=r"^[0-9]+-[0-9]+$", description="'<job_id>-<line_no>'")]
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_CONTENT_TYPE: {}}, "description": "Problem details (RFC 9457)"}
ERRORS: dict[int | str, dict[str, Any]] = {status: _PROBLEM for status in (404, 409, 422)}
_CODE = r"^[a-z0-9_:]{1,60}$"


@router.get("/jobs/{job_id}", response_model=JobReport, responses=ERRORS,
            summary="Report of a synchronisation job (counts per outcome and reason, time, records/s)")
def job_report(session: DbSession, actor: Actor, job_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> JobReport:
    return service.job_report(session, job_id)


@router.get("/review", response_model=ReviewPage, responses=ERRORS,
            summary="Records waiting for the database manager's decision (hàng chờ duyệt)")
def list_reviews(
    session: DbSession,
    actor: Actor,
    job: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="job id")] = None,
    source: Annotated[str | None, Query(pattern=_CODE, description="source code, e.g. bhyt")] = None,
    reason: Annotated[str | None, Query(pattern=_CODE, description="reason code, e.g. name_mismatch")] = None,
    state: Annotated[str, Query(pattern=r"^(open|accepted|rejected)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ReviewPage:
    return service.list_reviews(session, job_id=job, source=source, reason=reason, state=state, limit=limit,
                                offset=offset)


@router.post("/review/{item_id}/accept", response_model=ReviewItem, responses=ERRORS,
             summary="Accept: apply the sector identifier to the resident, with history")
def accept(session: DbSession, item_id: ItemId, actor: Actor, body: ReviewDecision | None = None) -> ReviewItem:
    return service.accept(session, item_id, actor=actor, note=body.note if body else None)


@router.post("/review/{item_id}/reject", response_model=ReviewItem, responses=ERRORS,
             summary="Reject: leave the resident unchanged, with a note")
def reject(session: DbSession, item_id: ItemId, actor: Actor, body: ReviewDecision | None = None) -> ReviewItem:
    return service.reject(session, item_id, actor=actor, note=body.note if body else None)
