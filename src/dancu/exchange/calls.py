"""One exchange call's context: who calls (token, checked against the database on every request), on
whose behalf (X-Road-Client, relaying), for which end user, its correlation id and request hash.

Refusals are logged too once the caller's identity is known (a valid token whose system is suspended,
terminated, not live, or whose key is revoked); a request without a valid token has no one to record.

Each call lives in one environment, the kind of the credential its token came from (for a relayed call, the
relaying platform's): ``test`` calls are judged by the system's test policy and reach only the sandbox,
``production`` ones by its production policy and never see the sandbox.

The connection model of step 4 holds: a system declared to connect through NDXP or an LGSP platform
(``via_platform``) is refused when it calls on its own (``direct_call_not_allowed``); only its platform,
approved and live, may call for it — so a suspended or terminated platform stops every system behind it.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from dancu.agencies.auth import check_status
from dancu.agencies.domain import CredentialKind, SystemKind, SystemStatus, effective_status
from dancu.agencies.errors import CredentialRevoked, Unauthenticated
from dancu.agencies.mtls import certificate_matches, presented_thumbprint
from dancu.agencies.settings import get_agency_settings
from dancu.agencies.tokens import platform_key, utcnow, verify_access_token
from dancu.errors import DancuError
from dancu.exchange import domain, repository
from dancu.exchange.errors import DirectCallNotAllowed, RelayedSystemNotAllowed, RelayNotAllowed, XRoadClientInvalid
from dancu.exchange.runtime import Runtime, runtime_of
from dancu.ledger.domain import EntryKind, LedgerEntry
from dancu.policy.domain import Environment


@dataclass
class Call:
    service: str
    correlation_id: str
    request_hash: bytes
    started: float
    end_user: str | None
    client_system: str = ""  # on whose behalf, whose policy applies
    client_system_id: int = 0
    policy_version_id: int | None = None
    relaying_platform: str | None = None
    xroad_client: str | None = None
    environment: str = Environment.PRODUCTION.value  # the kind of the credential the call was made with
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def meter(self) -> tuple[int, str]:
        """What rate and quota count: the policy holder in this environment."""
        return self.client_system_id, self.environment

    def entry(self, *, result: str, purpose: str | None, legal_basis: str | None = None,
              error_code: str | None = None, personal_ids: tuple[str, ...] = (),
              fields: tuple[str, ...] = (), response: bytes = b"", correlation_id: str | None = None) -> LedgerEntry:
        return LedgerEntry(
            kind=EntryKind.EXCHANGE, client_system=self.client_system, service=self.service,
            purpose=purpose or "", result=result, correlation_id=correlation_id or self.correlation_id,
            request_hash=self.request_hash, response_hash=hashlib.sha256(response).digest() if response else b"",
            latency_ms=int((time.perf_counter() - self.started) * 1000), relaying_platform=self.relaying_platform,
            end_user=self.end_user, legal_basis=legal_basis, error_code=error_code, personal_ids=personal_ids,
            fields_disclosed=fields,
        )


def header_maps(raw: Iterable[tuple[bytes, bytes]]) -> tuple[dict[str, str], dict[str, str]]:
    """Request headers by lower-case name: the first value of each (what ``headers.get`` gives) and the last
    (what a dict built from ``headers.items()`` keeps)."""
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        last[name] = text
        first.setdefault(name, text)
    return first, last


def new_call(service: str, first: dict[str, str], last: dict[str, str], body: bytes) -> Call:
    correlation = (first.get("x-road-id") or "").strip()[:200] or str(uuid.uuid4())
    end_user = (first.get("x-road-userid") or "").strip()[:200] or None
    return Call(service, correlation, domain.request_hash(last, body), time.perf_counter(), end_user,
                xroad_client=first.get("x-road-client"))


def start_call(request: Request, service: str, body: bytes) -> Call:
    return new_call(service, *header_maps(request.headers.raw), body)


def _claims(request: Request) -> dict[str, Any]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Thiếu mã truy cập (Authorization: Bearer …).",
                              "Missing access token (Authorization: Bearer …).")
    settings = get_agency_settings()
    try:
        claims = verify_access_token(platform_key(settings), token.strip())
    except jwt.PyJWTError as error:
        raise Unauthenticated("Mã truy cập không hợp lệ hoặc đã hết hạn.",
                              f"Invalid or expired access token: {error}.") from None
    cnf = claims.get("cnf")
    bound = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
    if bound and not certificate_matches(presented_thumbprint(request, settings), str(bound)):
        raise Unauthenticated("Mã truy cập gắn với chứng thư số khác.",
                              "The access token is bound to another client certificate.")
    return claims


async def authenticate(rt: Runtime, request: Request, call: Call) -> Call:
    """The call with its caller, environment and policy holder filled in; refusals raised (and logged when
    identified)."""
    claims = _claims(request)
    async with rt.pool.connection() as conn:
        row = await repository.auth_row(conn, int(str(claims["cid"])))
    if row is None or row.system_id != claims["sid"]:
        raise Unauthenticated("Khóa không còn tồn tại.", "The credential no longer exists.")
    kind = CredentialKind(row.credential_kind)
    call = replace(call, client_system=row.identifier, client_system_id=row.system_id,
                   policy_version_id=row.policy_version_id, environment=kind.value)
    try:
        if row.revoked_at is not None:
            raise CredentialRevoked("Khóa đã bị thu hồi; hãy dùng khóa khác để lấy mã truy cập mới.",
                                    "The credential was revoked; get a new token with another key.")
        status = effective_status(row.status, row.suspended_until, utcnow())
        check_status(row.identifier, status, kind, row.status_reason, row.suspended_until)
        relayed = await _relay(rt, call, row.system_kind, status, kind)
        if relayed.relaying_platform is None and row.via_platform:
            raise await _direct_call(rt, row.identifier, row.via_platform)
        return relayed
    except DancuError as error:
        if not getattr(error, "logged", False):
            await refuse(rt, call, error, purpose=None)
        raise


async def _direct_call(rt: Runtime, system: str, platform: str) -> DirectCallNotAllowed:
    """The refusal of a direct call by a system that connects through ``platform``, saying how the platform is."""
    async with rt.pool.connection() as conn:
        found = await repository.system_row(conn, platform)
    status = effective_status(found.status, found.suspended_until, utcnow()).value if found else None
    return DirectCallNotAllowed(system, platform, status)


async def _relay(rt: Runtime, call: Call, kind: str, status: SystemStatus, credential: CredentialKind) -> Call:
    if call.xroad_client is None:
        return call
    named = domain.parse_client(call.xroad_client)
    if named is None:
        raise XRoadClientInvalid("X-Road-Client phải có dạng INSTANCE/CLASS/CODE/SUBSYSTEM.",
                                 "X-Road-Client must be INSTANCE/CLASS/CODE/SUBSYSTEM.")
    if named == call.client_system:
        return call
    if kind != SystemKind.INTEGRATION_PLATFORM or status is not SystemStatus.ACTIVE:
        raise RelayNotAllowed(f"Hệ thống {call.client_system} không phải nền tảng trung gian được phê duyệt; "
                              f"không được gọi thay cho {named}.",
                              f"{call.client_system} is not an approved relaying platform; it may not call "
                              f"on behalf of {named}.", x_road_client=named)
    async with rt.pool.connection() as conn:
        target = await repository.system_row(conn, named, credential.value)
    if target is None or target.via_platform != call.client_system:
        raise RelayedSystemNotAllowed(f"{named} không kết nối qua nền tảng {call.client_system}.",
                                      f"{named} does not connect through platform {call.client_system}.",
                                      x_road_client=named)
    relayed = replace(call, client_system=target.identifier, client_system_id=target.system_id,
                      policy_version_id=target.policy_version_id, relaying_platform=call.client_system)
    try:  # the platform's test credential relays test calls (onboarding or live), its production one live ones
        target_status = effective_status(target.status, target.suspended_until, utcnow())
        check_status(target.identifier, target_status, credential, target.status_reason, target.suspended_until)
    except DancuError as error:
        await refuse(rt, relayed, error, purpose=None)
        error.logged = True  # type: ignore[attr-defined]
        raise
    return relayed


async def refuse(rt: Runtime, call: Call, error: DancuError, purpose: str | None, legal_basis: str | None = None,
                 personal_ids: tuple[str, ...] = ()) -> None:
    """Log a refusal (no field disclosed).  If even that cannot be logged, LedgerUnavailable replaces it."""
    await rt.ledger.append(call.entry(result="denied", purpose=purpose, legal_basis=legal_basis,
                                      error_code=error.code, personal_ids=personal_ids))


async def caller(request: Request) -> Call:
    """FastAPI dependency: runs before the body is validated, so an unauthenticated caller learns nothing."""
    call: Call = request.state.exchange_call
    call = await authenticate(runtime_of(request), request, call)
    request.state.exchange_call = call
    return call


Caller = Annotated[Call, Depends(caller)]
