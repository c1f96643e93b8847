"""Credentials of systems: registering and revoking keys or certificate thumbprints (rotation = several
live keys per system, told apart by ``kid``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dancu.agencies import repository
from dancu.agencies.domain import CredentialKind, CredentialMethod, SystemStatus
from dancu.agencies.errors import CredentialExists, CredentialNotFound, InvalidKey, InvalidStatusChange
from dancu.agencies.models import InformationSystem, SystemCredential
from dancu.agencies.mtls import normalise_thumbprint
from dancu.agencies.schemas import CredentialIn
from dancu.agencies.tokens import KeyProblem, check_public_jwk


def _parsed(credential: CredentialIn) -> tuple[str, str, dict[str, object] | None, str | None]:
    """``(kid, method, jwk, thumbprint)`` of a submitted credential, or :class:`InvalidKey`."""
    if credential.jwk is not None:
        try:
            kid, _ = check_public_jwk(credential.jwk)
        except KeyProblem as error:
            raise InvalidKey(f"Khóa công khai không dùng được: {error}", f"Unusable public key: {error}") from None
        public = {k: v for k, v in credential.jwk.items() if k not in ("use", "key_ops")}
        return kid, CredentialMethod.PRIVATE_KEY_JWT, {**public, "kid": kid}, None
    thumbprint = normalise_thumbprint(credential.cert_thumbprint or "")
    if thumbprint is None:
        raise InvalidKey("Dấu vân tay chứng thư phải là SHA-256 (hex hoặc base64url).",
                         "The certificate thumbprint must be a SHA-256 digest (hex or base64url).")
    return f"x5t-{thumbprint}", CredentialMethod.TLS_CLIENT_AUTH, None, thumbprint


def register(session: Session, system: InformationSystem, kind: CredentialKind, credential: CredentialIn,
             actor: str) -> SystemCredential:
    kid, method, jwk, thumbprint = _parsed(credential)
    if any(c.kid == kid for c in repository.credentials_of(session, system.system_id, live_only=False)):
        raise CredentialExists(kid)
    row = SystemCredential(system_id=system.system_id, kid=kid, kind=kind.value, method=method, public_jwk=jwk,
                           cert_thumbprint=thumbprint, created_by=actor)
    repository.add(session, row)
    return row


def rotate(session: Session, system: InformationSystem, kind: CredentialKind, credential: CredentialIn,
           actor: str) -> SystemCredential:
    """Add a key of a kind the system was already issued (at step 7 or 9), beside the ones it has."""
    issued = {c.kind for c in repository.credentials_of(session, system.system_id, live_only=False)}
    live = system.status in (SystemStatus.ONBOARDING, SystemStatus.ACTIVE, SystemStatus.SUSPENDED)
    if kind.value not in issued or not live:
        raise InvalidStatusChange(system.identifier, system.status, f"add a {kind.value} key")
    return register(session, system, kind, credential, actor)


def revoke(session: Session, system: InformationSystem, kid: str, actor: str, at: datetime) -> None:
    """Revoke one key; tokens obtained with it stop working on their next request."""
    if repository.revoke_credentials(session, system.system_id, actor, at, kid=kid) == 0:
        raise CredentialNotFound(kid)
