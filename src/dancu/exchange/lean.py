"""The lean verify path: ``POST /exchange/v1/verify`` served below FastAPI's routing, dependency and
validation machinery, for the ordinary case only — a cached valid token, a well-formed body, a caller in
good standing within its policy, rate and quota.

Everything else (no or bad token, invalid body, X-Road relaying, a bound certificate, a suspended,
terminated or revoked caller, a policy, rate or quota refusal) is handed, with the body as read, to the
declared FastAPI route, which answers and logs it exactly as before.  So is every call made with a **test**
credential (the sandbox rule and the test policy are the route's to apply) and every call of a system
that must connect through a platform (the route refuses it, ``direct_call_not_allowed``): the lean path
serves production calls of directly connected systems only, and reads the resident as a production call
sees it — the sandbox left out.  The lean path hands over before it
has done anything visible (it gives back a rate token it took), so a request is answered — and logged —
by exactly one of the two.  Both share :func:`dancu.exchange.service.answer_verify`, which returns the
answer only after its log entry is durably committed.

What the lean path saves: routing through every router, dependency solving, a second model validation,
the Ed25519 verification of a token already seen (:func:`dancu.agencies.tokens.verify_access_token`),
and one database round trip (the caller's standing and the resident are read by one statement, in one
snapshot).  The caller's standing is still read on every request: a suspension, termination or key
revocation refuses the very next request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import orjson
import psycopg
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from dancu.agencies.auth import check_status
from dancu.agencies.domain import CredentialKind, effective_status
from dancu.agencies.settings import get_agency_settings
from dancu.agencies.tokens import platform_key, utcnow, verify_access_token
from dancu.errors import DancuError, InternalError
from dancu.exchange import service
from dancu.exchange.calls import Call, header_maps, new_call
from dancu.exchange.domain import encode_hash
from dancu.exchange.repository import AuthRow
from dancu.exchange.runtime import Runtime, runtime_of_app
from dancu.exchange.schemas import VerifyRequest
from dancu.kit.http import LATENCY, REQUESTS, problem_response
from dancu.policy.domain import Policy, Service, decide
from dancu.policy.domain import Request as PolicyRequest

log = logging.getLogger(__name__)
PATH = "/exchange/v1/verify"
ANSWERING = "dancu.lean.answering"  # scope key: the answer has started to leave
MAX_BODY = 64 * 1024  # a verify body is well under 2 KiB; anything larger takes the ordinary path
_LATENCY = LATENCY.labels("POST", PATH)
_OK = REQUESTS.labels("POST", PATH, "200")


class FastLaneApp(FastAPI):
    """The FastAPI application with the lean verify path in front of everything else.

    It sits before FastAPI's own entry (its telemetry check and middleware stack), so an ordinary verify
    request costs none of them.  It answers with the same bytes, status and headers as the route would;
    its answers are counted in the same request metrics.
    """

    lean = True  # False sends every request the ordinary way (tests compare the two; a switch if ever needed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.lean or scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await super().__call__(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        if body is not None and await _serve_guarded(self, scope, body, send):
            return
        await super().__call__(scope, _replay(messages, receive), send)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages read and the whole body; ``None`` for the body when it is not an ordinary one."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Callable[[], Awaitable[Message]]:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _claims(authorization: str | None) -> dict[str, Any] | None:
    """Claims of a valid, unbound bearer token; ``None`` when the ordinary path must judge it."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = verify_access_token(platform_key(get_agency_settings()), token.strip())
    except jwt.PyJWTError:
        return None
    cnf = claims.get("cnf")
    return None if isinstance(cnf, dict) and cnf.get("x5t#S256") else claims


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True  # FastAPI reads a body without a content type as JSON too
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json"


def _parse(body: bytes) -> VerifyRequest | None:
    try:
        return VerifyRequest.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError):
        return None


async def _serve_guarded(app: FastAPI, scope: Scope, body: bytes, send: Send) -> bool:
    try:
        return await _serve(app, scope, body, send)
    except Exception:  # as FastAPI's last-resort handler does: a 500 problem, the cause in the log
        if scope.get(ANSWERING):
            raise  # too late for another answer: uvicorn closes the connection
        log.exception("unhandled error", extra={"path": PATH})
        error = InternalError("Đã có lỗi hệ thống; vui lòng thử lại sau.",
                              "An internal error occurred; please retry later.")
        await _respond(scope, send, problem_response(error, StarletteRequest(scope)), time.perf_counter())
        return True


async def _serve(app: FastAPI, scope: Scope, body: bytes, send: Send) -> bool:
    """Answer the request if it is an ordinary one (True), else leave it untouched (False)."""
    first, last = header_maps(scope["headers"])
    if "x-road-client" in first or not _is_json(first.get("content-type")):
        return False
    claims = _claims(first.get("authorization"))
    request = _parse(body) if claims is not None else None
    if claims is None or request is None or not (request.purpose or "").strip():
        return False
    personal_id = request.claim().personal_id
    if not service.well_formed(personal_id):
        return False
    rt = runtime_of_app(app)
    call = new_call(Service.VERIFY.value, first, last, body)
    try:
        found = await rt.lookups.standing(int(str(claims["cid"])), personal_id)
    except psycopg.Error:  # the ordinary path meets the same trouble and answers it as it always has
        return False
    if found is None:
        return False
    row, record = found
    if not _ordinary_caller(row, claims):
        return False
    try:
        check_status(row.identifier, effective_status(row.status, row.suspended_until, utcnow()),
                     CredentialKind(row.credential_kind), row.status_reason, row.suspended_until)
    except DancuError:
        return False
    call.client_system, call.client_system_id, call.policy_version_id = (
        row.identifier, row.system_id, row.policy_version_id)
    policy = await rt.policy(row.policy_version_id)
    if policy is None or not await _admitted(rt, call, request, policy):
        return False
    try:
        payload = await service.answer_verify(rt, call, request, {personal_id: record} if record else {})
    except DancuError as error:  # the log could not be written: nothing disclosed, same problem as the route's
        await _problem(scope, send, error, call)
        return True
    await _send_answer(scope, send, payload, call)
    _LATENCY.observe(time.perf_counter() - call.started)
    _OK.inc()
    return True


def _ordinary_caller(row: AuthRow, claims: dict[str, Any]) -> bool:
    """The token's own credential, not revoked, of the production kind, of a system that calls directly: a
    test call (sandbox only, test policy) or one that must come through a platform is the route's."""
    return (row.system_id == claims["sid"] and row.revoked_at is None
            and row.credential_kind == CredentialKind.PRODUCTION and not row.via_platform)


async def _admitted(rt: Runtime, call: Call, request: VerifyRequest, policy: Policy) -> bool:
    """Policy, rate and quota as :func:`dancu.exchange.service.admit` checks them, without refusing."""
    fields = request.claim().policy_fields()
    decision = decide(policy, PolicyRequest(call.service, fields, request.purpose, request.legal_basis,
                                            call.end_user))
    if not decision.allowed:
        return False
    if rt.rate.allow(call.meter, policy.rate_per_second, time.monotonic()) is not None:
        return False
    if not await rt.quota.consume(call.client_system_id, policy.daily_quota, utcnow(), 1, call.environment):
        rt.rate.give_back(call.meter, policy.rate_per_second)
        return False
    return True


async def _send_answer(scope: Scope, send: Send, payload: bytes, call: Call) -> None:
    # the same headers, in the same order, as the route's Response plus ExchangeRoute's X-Road headers
    headers = [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json"),
               (b"x-road-id", call.correlation_id.encode("latin-1")),
               (b"x-road-request-hash", encode_hash(call.request_hash).encode())]
    if call.end_user:
        headers.append((b"x-road-userid", call.end_user.encode("latin-1")))
    scope[ANSWERING] = True
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _problem(scope: Scope, send: Send, error: DancuError, call: Call) -> None:
    from dancu.exchange.routes import problem_with_headers

    await _respond(scope, send, problem_with_headers(error, StarletteRequest(scope), call), call.started)


async def _respond(scope: Scope, send: Send, response: Response, started: float) -> None:
    scope[ANSWERING] = True
    await response(scope, _no_receive, send)
    _LATENCY.observe(time.perf_counter() - started)
    REQUESTS.labels("POST", PATH, str(response.status_code)).inc()


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}

