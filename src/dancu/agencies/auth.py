"""``authenticated_system``: the dependency every exchange endpoint uses.

On EVERY request it checks the bearer token's signature and expiry AND re-reads, in one query over two
primary keys, the system's status and the revocation of the credential the token came from.  So a
suspension, termination or revocation applies to the very next request, whatever tokens the system holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import jwt
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from dancu.agencies import repository
from dancu.agencies.domain import CredentialKind, SystemStatus, effective_status, statuses_allowed
from dancu.agencies.errors import (
    CredentialRevoked,
    SystemNotLive,
    SystemSuspended,
    SystemTerminated,
    Unauthenticated,
)
from dancu.agencies.mtls import certificate_matches, presented_thumbprint
from dancu.agencies.settings import AgencySettings, get_agency_settings
from dancu.agencies.tokens import platform_key, utcnow, verify_access_token
from dancu.kit.http import db_session


@dataclass(frozen=True)
class AuthenticatedSystem:
    system_id: int
    identifier: str
    org_id: int
    status: SystemStatus
    credential_kind: CredentialKind
    credential_id: int
    token_id: str


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Thiếu mã truy cập (Authorization: Bearer …).",
                              "Missing access token (Authorization: Bearer …).")
    return token.strip()


def _claims(token: str, settings: AgencySettings) -> dict[str, object]:
    try:
        return verify_access_token(platform_key(settings), token)
    except jwt.PyJWTError as error:
        raise Unauthenticated("Mã truy cập không hợp lệ hoặc đã hết hạn.",
                              f"Invalid or expired access token: {error}.") from None


def _check_binding(claims: dict[str, object], request: Request, settings: AgencySettings) -> None:
    cnf = claims.get("cnf")
    bound = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
    if bound and not certificate_matches(presented_thumbprint(request, settings), str(bound)):
        raise Unauthenticated("Mã truy cập gắn với chứng thư số khác.",
                              "The access token is bound to another client certificate.")


def check_status(identifier: str, status: SystemStatus, kind: CredentialKind, reason: str | None,
                 until: datetime | None) -> None:
    """Refuse a system that may not call now, with a precise code."""
    if status is SystemStatus.SUSPENDED:
        when = f" đến {until.isoformat()}" if until else ""
        raise SystemSuspended(f"Hệ thống {identifier} đang bị tạm ngừng kết nối{when}: {reason or ''}",
                              f"System {identifier} is suspended{' until ' + until.isoformat() if until else ''}: "
                              f"{reason or ''}", suspended_until=until.isoformat() if until else None)
    if status in (SystemStatus.TERMINATED, SystemStatus.REJECTED):
        raise SystemTerminated(f"Kết nối của hệ thống {identifier} đã chấm dứt.",
                               f"The connection of system {identifier} has ended.")
    if status not in statuses_allowed(kind):
        raise SystemNotLive(f"Hệ thống {identifier} chưa được dùng khóa {kind.value}.",
                            f"System {identifier} may not use {kind.value} credentials yet.")


def authenticated_system(
    request: Request, session: Annotated[Session, Depends(db_session, scope="function")]
) -> AuthenticatedSystem:
    settings = get_agency_settings()
    claims = _claims(_bearer(request), settings)
    _check_binding(claims, request, settings)
    snapshot = repository.auth_snapshot(session, int(str(claims["cid"])))
    if snapshot is None or snapshot.credential_system_id != claims["sid"]:
        raise Unauthenticated("Khóa không còn tồn tại.", "The credential no longer exists.")
    if snapshot.revoked_at is not None:
        raise CredentialRevoked("Khóa đã bị thu hồi; hãy dùng khóa khác để lấy mã truy cập mới.",
                                "The credential was revoked; get a new token with another key.")
    status = effective_status(snapshot.status, snapshot.suspended_until, utcnow())
    kind = CredentialKind(snapshot.credential_kind)
    check_status(snapshot.identifier, status, kind, snapshot.status_reason, snapshot.suspended_until)
    return AuthenticatedSystem(int(str(claims["sid"])), snapshot.identifier, snapshot.org_id, status, kind,
                               int(str(claims["cid"])), str(claims.get("jti", "")))


CurrentSystem = Annotated[AuthenticatedSystem, Depends(authenticated_system)]
