"""The citizen channels' clock: injectable, so tests travel in time (code expiry, lockout, SMS rate windows)
instead of sleeping.  HTTP routes read ``app.state.citizen_clock`` (unset: the system clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from starlette.requests import Request

Clock = Callable[[], datetime]
VIETNAM = timezone(timedelta(hours=7))  # every time a citizen reads is Vietnam time (UTC+7, no DST)


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock(request: Request) -> Clock:
    """The clock of the application serving ``request``."""
    found: Clock | None = getattr(request.app.state, "citizen_clock", None)
    return found or system_clock
