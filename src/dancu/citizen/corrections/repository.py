"""SQL of the correction queue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.citizen.models import CorrectionRequest


def add(session: Session, row: CorrectionRequest) -> CorrectionRequest:
    session.add(row)
    session.flush()
    return row


def get(session: Session, request_id: int, *, lock: bool = False) -> CorrectionRequest | None:
    query = select(CorrectionRequest).where(CorrectionRequest.request_id == request_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def listing(session: Session, status: str | None, personal_id: str | None, limit: int) -> list[CorrectionRequest]:
    query = select(CorrectionRequest).order_by(CorrectionRequest.created_at, CorrectionRequest.request_id)
    if status:
        query = query.where(CorrectionRequest.status == status)
    if personal_id:
        query = query.where(CorrectionRequest.personal_id == personal_id)
    return list(session.scalars(query.limit(limit)))
