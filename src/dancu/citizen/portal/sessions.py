"""Portal browser sessions: an opaque cookie (only its SHA-256 is stored), a CSRF synchroniser token per
session, a new token whenever the user signs in (no fixation)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete
from sqlalchemy.orm import Session

from dancu.citizen.models import PortalSession
from dancu.citizen.settings import CitizenSettings

COOKIE = "dancu_portal"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def current(session: Session, request: Request, now: datetime | None = None) -> PortalSession | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    row = session.get(PortalSession, _hash(token))
    if row is None or row.expires_at <= (now or datetime.now(UTC)):
        return None
    return row


def start(session: Session, settings: CitizenSettings, response: Response,
          previous: PortalSession | None = None, now: datetime | None = None) -> PortalSession:
    """A fresh session (replacing ``previous`` and keeping its state), its cookie set on ``response``."""
    token = secrets.token_urlsafe(32)
    row = PortalSession(token_hash=_hash(token), csrf_token=secrets.token_urlsafe(32),
                        account_id=previous.account_id if previous else None,
                        stage=previous.stage if previous else "anonymous",
                        purpose=previous.purpose if previous else None,
                        eid_subject_id=previous.eid_subject_id if previous else None,
                        access_level=previous.access_level if previous else None,
                        expires_at=(now or datetime.now(UTC)) + timedelta(minutes=settings.session_minutes))
    if previous is not None:
        session.delete(previous)
    session.add(row)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=settings.cookie_secure,
                        path="/citizen/portal", max_age=settings.session_minutes * 60)
    return row


def csrf_ok(portal: PortalSession | None, submitted: str | None) -> bool:
    return portal is not None and submitted is not None and hmac.compare_digest(portal.csrf_token, submitted)


def end(session: Session, portal: PortalSession | None, response: Response) -> None:
    if portal is not None:
        session.execute(delete(PortalSession).where(PortalSession.token_hash == portal.token_hash))
    response.delete_cookie(COOKIE, path="/citizen/portal")
