"""Delivering the SMS outbox: the rules every channel's worker follows (pure decisions over the repository).

A worker claims due texts of its channel (one transaction; each held for ``sms_delivery_lease_s``), sends
them, then settles each (one transaction each):

* accepted by the SMSC / gateway → ``sent``, with the provider's message id; the text blanked;
* refused for now (throttled, gateway down, timeout) → ``pending`` again after ``backoff`` (2, 4, 8 … s up
  to ``sms_delivery_backoff_max_s``), or ``failed`` (blanked) once ``sms_delivery_attempts`` are spent;
* refused for good (a bad number, a 4xx from the gateway) → ``failed`` at once;
* never settled (the worker died between claim and answer) → claimed again when the lease ends.

Delivery is therefore at least once: a crash after a text left but before its acknowledgement was
recorded sends it again (the same code — harmless); a crash between the sender's commit and the send,
or between claim and send, sends it exactly once.  A text whose ``expires_at`` passed is not sent at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dancu.citizen.delivery import repository
from dancu.citizen.delivery.repository import Claimed
from dancu.citizen.settings import CitizenSettings

__all__ = ["Claimed", "backoff", "claim", "delivered", "international", "refused"]


def international(number: str) -> tuple[str, int]:
    """A registered number (national form ``0…``) as SMPP addresses it: ``84…`` with TON 1 (international);
    anything else as it is, TON 0 (unknown)."""
    if number.startswith("0") and number.isdigit() and len(number) >= 9:
        return "84" + number[1:], 0x01
    return number, 0x00


def backoff(attempts: int, settings: CitizenSettings) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1-based)."""
    return float(min(settings.sms_delivery_backoff_max_s,
                     settings.sms_delivery_backoff_s * 2 ** min(max(attempts - 1, 0), 30)))


def claim(session: Session, channel: str, settings: CitizenSettings, now: datetime, limit: int) -> list[Claimed]:
    """Close what expired or ran out of attempts, then take up to ``limit`` due texts of ``channel``."""
    repository.expire(session, now, channel)
    repository.give_up(session, channel, now, settings.sms_delivery_attempts)
    if limit <= 0:
        return []
    lease = now + timedelta(seconds=settings.sms_delivery_lease_s)
    return repository.claim(session, channel, now, lease, limit)


def delivered(session: Session, message: Claimed, provider_id: str, now: datetime) -> None:
    repository.sent(session, message.message_id, provider_id[:200], now)


def refused(session: Session, message: Claimed, error: str, settings: CitizenSettings, now: datetime,
            permanent: bool = False) -> str:
    """Record a failed attempt; the text's new status (``pending`` or ``failed``)."""
    if permanent or message.attempts >= settings.sms_delivery_attempts:
        repository.fail(session, message.message_id, error[:200])
        return "failed"
    repository.retry(session, message.message_id, error[:200],
                     now + timedelta(seconds=backoff(message.attempts, settings)))
    return "pending"
