"""SQL of the SMS outbox's delivery: claim due texts, settle them, blank what may no longer be read.

Every statement that ends a text's life (sent, failed, expired) sets ``text`` to NULL in the same UPDATE.
Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, text
from sqlalchemy.orm import Session

OPEN = "status IN ('pending', 'sending')"

_EXPIRE = text(f"""
    UPDATE citizen_sms_outbox SET status = 'expired', text = NULL, next_attempt_at = NULL
    WHERE {OPEN} AND expires_at <= :now AND (CAST(:channel AS text) IS NULL OR channel = :channel)
""")
# a text claimed by a worker that never settled it (it died, or the SMSC never answered), out of attempts
_GIVE_UP = text(f"""
    UPDATE citizen_sms_outbox SET status = 'failed', text = NULL, next_attempt_at = NULL,
           last_error = coalesce(last_error, 'not acknowledged')
    WHERE {OPEN} AND channel = :channel AND next_attempt_at <= :now AND attempts >= :attempts
""")
_CLAIM = text(f"""
    WITH due AS (
        SELECT message_id FROM citizen_sms_outbox
        WHERE {OPEN} AND channel = :channel AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
        ORDER BY next_attempt_at NULLS FIRST, message_id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE citizen_sms_outbox AS o SET status = 'sending', attempts = o.attempts + 1, next_attempt_at = :lease
    FROM due WHERE o.message_id = due.message_id
    RETURNING o.message_id, o.to_number, o.text, o.attempts
""")
_SENT = text("""
    UPDATE citizen_sms_outbox SET status = 'sent', text = NULL, sent_at = :now, provider_message_id = :provider_id,
           next_attempt_at = NULL, last_error = NULL
    WHERE message_id = :id AND status = 'sending'
""")
_RETRY = text("""
    UPDATE citizen_sms_outbox SET status = 'pending', next_attempt_at = :at, last_error = :error
    WHERE message_id = :id AND status = 'sending'
""")
_FAIL = text("""
    UPDATE citizen_sms_outbox SET status = 'failed', text = NULL, next_attempt_at = NULL, last_error = :error
    WHERE message_id = :id AND status = 'sending'
""")


@dataclass(frozen=True)
class Claimed:
    message_id: int
    to: str
    text: str
    attempts: int  # this one included


def _count(session: Session, statement: Any, params: dict[str, Any]) -> int:
    result: CursorResult[Any] = session.execute(statement, params)  # type: ignore[assignment]
    return int(result.rowcount)


def expire(session: Session, now: datetime, channel: str | None = None) -> int:
    """Blank and close every open text whose validity ended unsent; how many."""
    return _count(session, _EXPIRE, {"now": now, "channel": channel})


def give_up(session: Session, channel: str, now: datetime, attempts: int) -> int:
    return _count(session, _GIVE_UP, {"channel": channel, "now": now, "attempts": attempts})


def claim(session: Session, channel: str, now: datetime, lease: datetime, limit: int) -> list[Claimed]:
    """Take up to ``limit`` due texts of ``channel`` (skipping those another worker holds) until ``lease``."""
    rows = session.execute(_CLAIM, {"channel": channel, "now": now, "lease": lease, "limit": limit})
    return sorted((Claimed(r.message_id, r.to_number, r.text, r.attempts) for r in rows if r.text is not None),
                  key=lambda c: c.message_id)


def sent(session: Session, message_id: int, provider_id: str, now: datetime) -> bool:
    return _count(session, _SENT, {"id": message_id, "provider_id": provider_id, "now": now}) == 1


def retry(session: Session, message_id: int, error: str, at: datetime) -> bool:
    return _count(session, _RETRY, {"id": message_id, "error": error, "at": at}) == 1


def fail(session: Session, message_id: int, error: str) -> bool:
    return _count(session, _FAIL, {"id": message_id, "error": error}) == 1
