"""The token endpoint's rules: OAuth 2.0 client credentials with ``private_key_jwt`` (RFC 7523 §2.2) or a
certificate-bound credential (RFC 8705 ``tls_client_auth``).  Errors follow RFC 6749 §5.2, not problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dancu.agencies import repository
from dancu.agencies.domain import (
    CredentialKind,
    CredentialMethod,
    SystemStatus,
    effective_status,
    statuses_allowed,
)
from dancu.agencies.models import InformationSystem, SystemCredential
from dancu.agencies.mtls import certificate_matches
from dancu.agencies.settings import AgencySettings
from dancu.agencies.tokens import ASSERTION_TYPE, AssertionProblem, platform_key, unverified_assertion, verify_assertion

Authenticated = tuple[InformationSystem, SystemCredential, dict[str, Any]]


@dataclass
class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``error`` is one of the registered codes; ``dancu_code`` is our precise one."""

    error: str
    description: str
    status: int = 400
    dancu_code: str | None = None

    def body(self) -> dict[str, str]:
        out = {"error": self.error, "error_description": self.description}
        if self.dancu_code:
            out["dancu_code"] = self.dancu_code
        return out


@dataclass(frozen=True)
class TokenRequest:
    form: dict[str, str]
    token_url: str
    thumbprint: str | None
    now: datetime
    settings: AgencySettings = field(repr=False)


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def issue(session: Session, request: TokenRequest) -> dict[str, Any]:
    """An access token response (RFC 6749 §5.1), or :class:`OAuthError`."""
    grant_type = request.form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
    if "client_assertion" in request.form:
        system, credential, extra = _by_assertion(session, request)
    elif request.thumbprint is not None:
        system, credential, extra = _by_certificate(session, request)
    else:
        raise _invalid_client("authenticate with client_assertion (private_key_jwt) or a client certificate")
    kind = _check_status(system, credential, request.now)
    claims = {"sub": system.identifier, "sid": system.system_id, "cid": credential.credential_id,
              "kind": kind.value, **extra}
    seconds = request.settings.access_token_seconds
    token = platform_key(request.settings).issue(claims, request.now, seconds)
    return {"access_token": token, "token_type": "Bearer", "expires_in": seconds, "credential_kind": kind.value}


def _system(session: Session, client_id: str | None) -> InformationSystem:
    system = repository.system_by_identifier(session, client_id) if client_id else None
    if system is None:
        raise _invalid_client("unknown client")
    return system


def _by_assertion(session: Session, request: TokenRequest) -> Authenticated:
    form = request.form
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    try:
        header, unverified = unverified_assertion(form["client_assertion"])
    except AssertionProblem as error:
        raise _invalid_client(str(error)) from None
    client_id = str(unverified.get("iss", ""))
    if form.get("client_id") not in (None, client_id):
        raise _invalid_client("client_id does not match the assertion's iss")
    system = _system(session, client_id)
    keys = repository.credentials_of(session, system.system_id, CredentialMethod.PRIVATE_KEY_JWT)
    candidates = [k for k in keys if header.get("kid") in (None, k.kid)]
    if not candidates:
        raise _invalid_client("no live key of this client matches the assertion's kid")
    credential, claims = _verify_with_any(candidates, form["client_assertion"], client_id, request)
    expires = datetime.fromtimestamp(claims["exp"], request.now.tzinfo) + timedelta(minutes=1)
    if not repository.spend_jti(session, system.system_id, claims["jti"], expires):
        raise _invalid_client("client_assertion already used (jti replayed)")
    return system, credential, {}


def _verify_with_any(candidates: list[SystemCredential], assertion: str, client_id: str,
                     request: TokenRequest) -> tuple[SystemCredential, dict[str, Any]]:
    problem = "client_assertion rejected"
    for credential in candidates:
        assert credential.public_jwk is not None
        try:
            claims = verify_assertion(assertion, credential.public_jwk, client_id, request.token_url, request.now,
                                      request.settings.max_assertion_seconds)
        except AssertionProblem as error:
            problem = str(error)
            continue
        return credential, claims
    raise _invalid_client(problem)


def _by_certificate(session: Session, request: TokenRequest) -> Authenticated:
    system = _system(session, request.form.get("client_id"))
    for credential in repository.credentials_of(session, system.system_id, CredentialMethod.TLS_CLIENT_AUTH):
        if credential.cert_thumbprint and certificate_matches(request.thumbprint, credential.cert_thumbprint):
            return system, credential, {"cnf": {"x5t#S256": credential.cert_thumbprint}}
    raise _invalid_client("the client certificate is not registered for this client")


def _check_status(system: InformationSystem, credential: SystemCredential, now: datetime) -> CredentialKind:
    status = effective_status(system.status, system.suspended_until, now)
    kind = CredentialKind(credential.kind)
    if status is SystemStatus.SUSPENDED:
        raise OAuthError("unauthorized_client", f"system suspended: {system.status_reason}", 400, "system_suspended")
    if status in (SystemStatus.TERMINATED, SystemStatus.REJECTED):
        raise OAuthError("unauthorized_client", f"system {status.value}", 400, "system_terminated")
    if status not in statuses_allowed(kind):
        raise OAuthError("unauthorized_client", f"{kind.value} credentials are not usable while {status.value}",
                         400, "system_not_live")
    return kind
