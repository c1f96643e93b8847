"""SQL of e-identification logins: the link from an e-ID subject to a personal ID."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

_LINK = text(
    """
    INSERT INTO citizen_eid_subject (issuer, subject, personal_id, level, first_login, last_login)
    VALUES (:issuer, :subject, :personal_id, :level, :now, :now)
    ON CONFLICT (issuer, subject) DO UPDATE
        SET personal_id = EXCLUDED.personal_id, level = EXCLUDED.level, last_login = EXCLUDED.last_login
    RETURNING subject_id
    """
)


def link(session: Session, issuer: str, subject: str, personal_id: str, level: int, now: datetime) -> int:
    """The subject's row id, created on its first login; its personal ID and level follow the latest ID token."""
    params = {"issuer": issuer, "subject": subject, "personal_id": personal_id, "level": level, "now": now}
    return int(session.execute(_LINK, params).scalar_one())
