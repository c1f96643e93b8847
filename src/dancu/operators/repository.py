"""Every SQL statement about operators, their tokens and account events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dancu.operators.models import Operator, OperatorEvent, OperatorToken


def get_by_username(session: Session, username: str, lock: bool = False) -> Operator | None:
    query = select(Operator).where(Operator.username == username)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.username)))


def tokens_of(session: Session, operator_id: int) -> list[OperatorToken]:
    query = select(OperatorToken).where(OperatorToken.operator_id == operator_id).order_by(OperatorToken.token_id)
    return list(session.scalars(query))


def get_token(session: Session, operator_id: int, token_id: int) -> OperatorToken | None:
    query = select(OperatorToken).where(OperatorToken.token_id == token_id, OperatorToken.operator_id == operator_id)
    return session.scalars(query.with_for_update()).one_or_none()


def token_with_operator(session: Session, digest: bytes) -> tuple[OperatorToken, Operator] | None:
    """The token row and its operator in one indexed look-up by hash (done on every operator request)."""
    query = select(OperatorToken, Operator).join(Operator, Operator.operator_id == OperatorToken.operator_id)
    row = session.execute(query.where(OperatorToken.token_hash == digest)).one_or_none()
    return None if row is None else (row[0], row[1])


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(OperatorToken).where(OperatorToken.token_id == token_id).values(last_used_at=now))


def revoke_live_tokens(session: Session, operator_id: int, now: datetime, actor: str) -> int:
    """Revoke every token of an operator not yet revoked; returns how many."""
    result = session.execute(
        update(OperatorToken)
        .where(OperatorToken.operator_id == operator_id, OperatorToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=actor)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def record_event(session: Session, operator_id: int, kind: str, actor: str, now: datetime,
                 **details: Any) -> None:
    session.add(OperatorEvent(operator_id=operator_id, kind=kind, actor=actor, details=details, recorded_at=now))


def events_of(session: Session, operator_id: int) -> list[OperatorEvent]:
    query = select(OperatorEvent).where(OperatorEvent.operator_id == operator_id).order_by(OperatorEvent.event_id)
    return list(session.scalars(query))
