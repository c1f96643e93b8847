"""The correction queue: citizens file requests; the database manager lists and answers them.  Never commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dancu.citizen.corrections import repository as repo
from dancu.citizen.corrections.schemas import CorrectionAnswer, CorrectionView
from dancu.citizen.errors import CorrectionAlreadyAnswered, CorrectionNotFound
from dancu.citizen.models import CorrectionRequest
from dancu.errors import ValidationFailed, field_error
from dancu.registry.domain import RECORD_FIELDS

CORRECTABLE = tuple(f for f in RECORD_FIELDS if f not in ("personal_id", "household_id", "sector_ids"))
MAX_TEXT = 2000


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def file_request(session: Session, personal_id: str, state: dict[str, Any], field: str, requested: str,
                 reason: str) -> CorrectionView:
    requested, reason = requested.replace("\x00", "").strip(), reason.replace("\x00", "").strip()
    if field not in CORRECTABLE or not requested or not reason or max(len(requested), len(reason)) > MAX_TEXT:
        raise ValidationFailed([field_error("field", "invalid_correction", "Yêu cầu điều chỉnh không hợp lệ.",
                                            "Pick a field and give the new value and a reason.")])
    row = repo.add(session, CorrectionRequest(personal_id=personal_id, field=field,
                                              current_value=_text(state.get(field)), requested_value=requested,
                                              reason=reason, status="open"))
    return CorrectionView.model_validate(row)


def list_requests(session: Session, status: str | None = "open", personal_id: str | None = None,
                  limit: int = 100) -> list[CorrectionView]:
    return [CorrectionView.model_validate(r) for r in repo.listing(session, status, personal_id, limit)]


def answer_request(session: Session, request_id: int, body: CorrectionAnswer, actor: str) -> CorrectionView:
    row = repo.get(session, request_id, lock=True)
    if row is None:
        raise CorrectionNotFound(f"Không có yêu cầu điều chỉnh số {request_id}.",
                                 f"No correction request {request_id}.")
    if row.status != "open":
        raise CorrectionAlreadyAnswered(f"Yêu cầu {request_id} đã được trả lời.",
                                        f"Request {request_id} was already answered.")
    row.status, row.answer, row.answered_by = body.status, body.answer, actor
    row.answered_at = datetime.now(UTC)
    session.flush()
    return CorrectionView.model_validate(row)
