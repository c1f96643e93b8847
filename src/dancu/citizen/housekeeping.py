"""Removing what the citizen channels no longer need: expired sessions, spent or expired one-time codes,
SMS rate windows that have closed.  Run by ``dancu citizen housekeeping`` (from a timer, every few
minutes); nothing depends on it for security — every check also compares expiry times itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, TextClause, text
from sqlalchemy.orm import Session

from dancu.citizen.settings import CitizenSettings

_SESSIONS = text("DELETE FROM citizen_session WHERE expires_at <= :now")
_CODES = text("DELETE FROM citizen_otp WHERE expires_at <= :now OR used_at IS NOT NULL")
_RATE = text("DELETE FROM citizen_sms_rate WHERE window_start <= :closed")


@dataclass(frozen=True)
class Swept:
    sessions: int
    codes: int
    rate_windows: int


def sweep(session: Session, settings: CitizenSettings, now: datetime) -> Swept:
    """Delete the rows that expired by ``now``; how many of each.  Never commits."""
    closed = now - timedelta(seconds=settings.sms_rate_window_s)  # a window ends one length after its start

    def count(statement: TextClause, **params: object) -> int:
        result: CursorResult[Any] = session.execute(statement, params)  # type: ignore[assignment]
        return int(result.rowcount)

    return Swept(count(_SESSIONS, now=now), count(_CODES, now=now), count(_RATE, closed=closed))
