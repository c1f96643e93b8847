"""SQL of the SMS channel: the per-number rate window, the keys of inbound webhook messages already taken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

_HIT = text(
    """
    INSERT INTO citizen_sms_rate (phone, window_start, count) VALUES (:phone, :window, 1)
    ON CONFLICT (phone, window_start) DO UPDATE SET count = citizen_sms_rate.count + 1
    RETURNING count
    """
)


def hit(session: Session, phone: str, window: datetime) -> int:
    """Count one more message from ``phone`` in ``window``; the count so far (atomic across processes)."""
    return int(session.execute(_HIT, {"phone": phone, "window": window}).scalar_one())


_FIRST = text(
    """
    INSERT INTO citizen_sms_inbound (key, received_at) VALUES (:key, :now)
    ON CONFLICT (key) DO NOTHING
    RETURNING key
    """
)


def first_time(session: Session, key: str, now: datetime) -> bool:
    """Record ``key``; False if it was already taken.  A concurrent request with the same key waits for the
    first one's transaction: a duplicate once it commits, the one to answer if it rolls back."""
    return session.execute(_FIRST, {"key": key, "now": now}).first() is not None
