"""Removing what the citizen channels no longer need: expired sessions, spent or expired one-time codes,
SMS rate windows that have closed, keys of inbound webhook messages past ``sms_inbound_keep_s``; and blanking
outbox texts that expired unsent (delivery workers do it too, for their channel).  Run by ``dancu citizen
housekeeping`` (from a timer, every few minutes); nothing depends on it for security — every check also
compares expiry times itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, TextClause, text
from sqlalchemy.orm import Session

from dancu.citizen.delivery import repository as delivery
from dancu.citizen.settings import CitizenSettings

_SESSIONS = text("DELETE FROM citizen_session WHERE expires_at <= :now")
_CODES = text("DELETE FROM citizen_otp WHERE expires_at <= :now OR used_at IS NOT NULL")
_RATE = text("DELETE FROM citizen_sms_rate WHERE window_start <= :closed")
_INBOUND = text("DELETE FROM citizen_sms_inbound WHERE received_at <= :before")


@dataclass(frozen=True)
class Swept:
    sessions: int
    codes: int
    rate_windows: int
    inbound_keys: int = 0
    texts_expired: int = 0


def sweep(session: Session, settings: CitizenSettings, now: datetime) -> Swept:
    """Delete the rows that expired by ``now``; how many of each.  Never commits."""
    closed = now - timedelta(seconds=settings.sms_rate_window_s)  # a window ends one length after its start

    def count(statement: TextClause, **params: object) -> int:
        result: CursorResult[Any] = session.execute(statement, params)  # type: ignore[assignment]
        return int(result.rowcount)

    before = now - timedelta(seconds=settings.sms_inbound_keep_s)
    return Swept(count(_SESSIONS, now=now), count(_CODES, now=now), count(_RATE, closed=closed),
                 count(_INBOUND, before=before), delivery.expire(session, now))
