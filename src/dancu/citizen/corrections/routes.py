"""The database manager's API over the correction queue (operators with the ``reviewer`` role).

The queue shows the requesters' data: every page and every answered request returned is an exchange-log entry
first (:mod:`dancu.citizen.corrections.disclosure`); the answer carries the seqs in ``X-Dancu-Log-Seq``; no
entry, no answer (``503 ledger_unavailable``, and the answer is not recorded).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from dancu.citizen.corrections import disclosure
from dancu.citizen.corrections.schemas import CorrectionAnswer, CorrectionView
from dancu.kit.http import DbSession
from dancu.ledger import operator_http, operator_reads
from dancu.ledger.operator_http import LedgerLog, ReadBy, answer

router = APIRouter(prefix="/citizen/corrections", tags=["citizen"])
# the officer's username (the recorded answerer) and purpose, for the exchange log
Reviewer = Annotated[operator_reads.Reader, ReadBy("reviewer", default_purpose=disclosure.DEFAULT_PURPOSE)]
ANSWER_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such request"}, 409: {"description": "Already answered"},
    422: {"description": "Invalid answer"}}


@router.get("", response_model=list[CorrectionView], responses=operator_http.read_responses({}, several=True),
            summary="Correction requests (the manager's queue)")
def list_corrections(
    session: DbSession,
    reader: Reviewer,
    log: LedgerLog,
    status: Annotated[Literal["open", "accepted", "rejected"] | None, Query()] = "open",
    personal_id: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    return answer(disclosure.list_requests(session, reader, log, status, personal_id, limit))


@router.post("/{request_id}/answer", response_model=CorrectionView, summary="Answer a correction request",
             responses=operator_http.read_responses(ANSWER_ERRORS, several=True))
def answer_correction(session: DbSession, reader: Reviewer, log: LedgerLog, body: CorrectionAnswer,
                      request_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    return answer(disclosure.answer_request(session, reader, log, request_id, body))
