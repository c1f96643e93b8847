"""The outbox provider: every message is a row of ``citizen_sms_outbox``, written in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.citizen.models import OutboxMessage


class OutboxProvider:
    name = "outbox"

    def send(self, session: Session | None, to: str, text: str) -> None:
        if session is None:
            raise ValueError("the outbox provider writes in the caller's transaction")
        session.add(OutboxMessage(to_number=to, text=text))


def latest_to(session: Session, to: str) -> str | None:
    """The last message sent to ``to`` (tests and the demo read one-time codes here)."""
    query = select(OutboxMessage.text).where(OutboxMessage.to_number == to).order_by(OutboxMessage.message_id.desc())
    return session.scalars(query.limit(1)).first()
