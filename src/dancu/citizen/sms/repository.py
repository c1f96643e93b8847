"""SQL of the SMS channel: the per-number rate window."""

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

