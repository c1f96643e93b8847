"""Providers that write ``citizen_sms_outbox`` in the caller's transaction: the transactional outbox
(:class:`QueuedProvider`, sent after the commit by the channel's worker) and the development/demo outbox
(:class:`OutboxProvider`, never sent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.citizen.models import OutboxMessage

CHANNELS = ("smpp", "http")


def _session(session: Session | None) -> Session:
    if session is None:
        raise ValueError("the outbox is written in the caller's transaction")
    return session


class QueuedProvider:
    """Queues the text for ``channel``'s delivery worker; it leaves only if the caller's transaction commits."""

    def __init__(self, channel: str) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown SMS channel {channel!r}")
        self.name = channel

    def send(self, session: Session | None, to: str, text: str, *, kind: str = "message",
             valid_until: datetime | None = None) -> None:
        _session(session).add(OutboxMessage(to_number=to, text=text, kind=kind, channel=self.name, status="pending",
                                            attempts=0, expires_at=valid_until))


class OutboxProvider:
    """Development and demo only (``DANCU_CITIZEN_SMS_DELIVERY=outbox``): the text is kept, readable, and never
    sent; ``dancu citizen outbox`` shows it."""

    name = "outbox"

    def send(self, session: Session | None, to: str, text: str, *, kind: str = "message",
             valid_until: datetime | None = None) -> None:
        _session(session).add(OutboxMessage(to_number=to, text=text, kind=kind, channel="outbox", status="demo",
                                            attempts=0, expires_at=valid_until))


def latest_to(session: Session, to: str) -> str | None:
    """The last text to ``to`` still readable (a demo row, or one not yet sent): tests and the demo."""
    query = (select(OutboxMessage.text).where(OutboxMessage.to_number == to, OutboxMessage.text.is_not(None))
             .order_by(OutboxMessage.message_id.desc()))
    return session.scalars(query.limit(1)).first()
