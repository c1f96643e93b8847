"""Signing in with an e-identification account: a second way (beside portal accounts) to a signed-in session.

Never commits. The pending request's secrets live in the server-side session and are single use.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy.orm import Session

from dancu.citizen.eid import repository
from dancu.citizen.eid.oidc import Identity, Pending
from dancu.citizen.models import PortalSession
from dancu.registry import repository as registry

STAGE = "eid"  # waiting for the provider's callback


def begin(portal: PortalSession, pending: Pending) -> None:
    portal.stage, portal.purpose, portal.account_id = STAGE, None, None
    portal.eid_subject_id, portal.access_level = None, None
    portal.oidc_state, portal.oidc_nonce, portal.oidc_verifier = pending.state, pending.nonce, pending.verifier


def take_pending(portal: PortalSession | None, state: str) -> tuple[str, str] | None:
    """(nonce, verifier) if ``state`` is the one this browser's session sent; cleared either way (single use)."""
    if portal is None or portal.stage != STAGE or not portal.oidc_state:
        return None
    expected, nonce, verifier = portal.oidc_state, portal.oidc_nonce, portal.oidc_verifier
    portal.stage, portal.oidc_state, portal.oidc_nonce, portal.oidc_verifier = "anonymous", None, None, None
    if not (nonce and verifier and hmac.compare_digest(expected.encode(), state.encode())):
        return None
    return nonce, verifier


def sign_in(session: Session, portal: PortalSession, identity: Identity, now: datetime) -> bool:
    """Sign the session in as the identity's resident; False (session left anonymous) if no such record."""
    resident = registry.find(session, identity.personal_id)
    if resident is None:
        return False
    # the current number, should the token carry one the resident held before a correction
    portal.eid_subject_id = repository.link(session, identity.issuer, identity.subject, resident.personal_id,
                                            identity.level, now)
    portal.stage, portal.access_level, portal.account_id = "signed_in", identity.level, None
    return True
