"""The database manager's API over the correction queue (operators with the ``reviewer`` role)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from dancu.citizen.corrections import service
from dancu.citizen.corrections.schemas import CorrectionAnswer, CorrectionView
from dancu.kit.http import DbSession
from dancu.operators.auth import RequireRole

router = APIRouter(prefix="/citizen/corrections", tags=["citizen"])
Actor = Annotated[str, RequireRole("reviewer")]  # the authenticated operator's username


@router.get("", response_model=list[CorrectionView], summary="Correction requests (the manager's queue)")
def list_corrections(
    session: DbSession,
    actor: Actor,
    status: Annotated[Literal["open", "accepted", "rejected"] | None, Query()] = "open",
    personal_id: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CorrectionView]:
    return service.list_requests(session, status, personal_id, limit)


@router.post("/{request_id}/answer", response_model=CorrectionView, summary="Answer a correction request",
             responses={404: {"description": "No such request"}, 409: {"description": "Already answered"},
                        422: {"description": "Invalid answer"}})
def answer_correction(session: DbSession, actor: Actor, body: CorrectionAnswer,
                      request_id: Annotated[int, Path(ge=1, le=2**62)]) -> CorrectionView:
    return service.answer_request(session, request_id, body, actor)
