"""HTTP plumbing shared by every capability: problem+json handlers, request body limits, request metrics, the
DB session dependency."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Annotated, Any, ClassVar

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from prometheus_client import Counter, Histogram
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dancu.errors import (
    PROBLEM_CONTENT_TYPE,
    DancuError,
    InternalError,
    PayloadTooLarge,
    ValidationFailed,
    field_error,
)

log = logging.getLogger("dancu.http")

REQUESTS = Counter("dancu_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("dancu_http_request_seconds", "HTTP request latency", ["method", "route"])


class ProblemResponse(Response):
    media_type = PROBLEM_CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem_response(error: DancuError, request: Request) -> ProblemResponse:
    headers: dict[str, str] | None = getattr(error, "headers", None)  # e.g. WWW-Authenticate on a 401
    return ProblemResponse(error.problem(instance=request.url.path), status_code=error.status, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for item in exc.errors():
        if item.get("type") == "json_invalid":  # FastAPI's loc is ("body", <character position>)
            position = str(item.get("loc", ("body", "?"))[-1])
            reason = str((item.get("ctx") or {}).get("error", "JSON decode error"))
            errors.append(field_error("body", "json_invalid",
                                      f"Nội dung yêu cầu không phải JSON hợp lệ (vị trí {position}): {reason}.",
                                      f"The request body is not valid JSON (position {position}): {reason}."))
            continue
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        message = str(item.get("msg", "invalid"))
        errors.append(field_error(location or "body", str(item.get("type", "invalid")),
                                  f"Trường '{location}' không hợp lệ: {message}", f"'{location}': {message}"))
    return errors


def _unparsable_body(exc: StarletteHTTPException) -> ValidationFailed | None:
    """FastAPI's and Starlette's ``400`` for a body they could not decode (not UTF-8, a broken form), as the
    documented validation error; ``None`` for any other 400."""
    cause = exc.__cause__ or exc.__context__
    if exc.status_code != 400 or cause is None:
        return None
    if isinstance(cause, UnicodeDecodeError):
        return ValidationFailed([field_error("body", "body_not_utf8",
                                             "Nội dung yêu cầu không phải văn bản UTF-8 hợp lệ.",
                                             "The request body is not valid UTF-8.")])
    if isinstance(cause, MultiPartException) or str(exc.detail) == "There was an error parsing the body":
        return ValidationFailed([field_error("body", "body_malformed",
                                             "Không đọc được nội dung yêu cầu theo kiểu nội dung đã khai báo.",
                                             f"The request body could not be parsed as its declared content type "
                                             f"({type(cause).__name__}).")])
    return None


def http_error(exc: StarletteHTTPException) -> DancuError:
    """The problem for an HTTP error raised by the framework (unknown path, wrong method, a body over its limit
    or not decodable)."""
    if isinstance(exc, BodyTooLarge):
        return PayloadTooLarge(exc.limit)
    return _unparsable_body(exc) or HttpProblem(exc.status_code, str(exc.detail), exc.headers)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_dancu_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DancuError)
        return problem_response(exc, request)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(ValidationFailed(_validation_errors(exc)), request)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(http_error(exc), request)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(InternalError("Đã có lỗi hệ thống; vui lòng thử lại sau.",
                                              "An internal error occurred; please retry later."), request)

    app.add_exception_handler(DancuError, on_dancu_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


class HttpProblem(DancuError):
    """A plain HTTP error (unknown path, wrong method...) in problem form, titled in both languages."""

    # status → code, Vietnamese title, English title, Vietnamese detail
    _known: ClassVar[dict[int, tuple[str, str, str, str]]] = {
        400: ("bad_request", "Yêu cầu không hợp lệ", "Bad request", "Máy chủ không hiểu được yêu cầu."),
        401: ("unauthorized", "Chưa xác thực", "Unauthorized", "Yêu cầu cần được xác thực."),
        403: ("forbidden", "Không có quyền", "Forbidden", "Không được phép thực hiện yêu cầu này."),
        404: ("not_found", "Không tìm thấy", "Not found", "Không có tài nguyên nào tại đường dẫn này."),
        405: ("method_not_allowed", "Phương thức không được hỗ trợ", "Method not allowed",
              "Đường dẫn này không nhận phương thức HTTP đã dùng (xem tiêu đề Allow)."),
        406: ("not_acceptable", "Không đáp ứng được định dạng yêu cầu", "Not acceptable",
              "Không có định dạng trả lời nào khớp tiêu đề Accept."),
        413: ("payload_too_large", "Nội dung yêu cầu quá lớn", "Request body too large",
              "Nội dung yêu cầu vượt quá giới hạn của thao tác này."),
        415: ("unsupported_media_type", "Kiểu nội dung không được hỗ trợ", "Unsupported media type",
              "Thao tác này không nhận kiểu nội dung (Content-Type) đã gửi."),
        429: ("too_many_requests", "Quá nhiều yêu cầu", "Too many requests", "Hãy gửi chậm lại."),
    }

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        code, title_vi, title_en, detail_vi = self._known.get(
            status, (f"http_{status}", f"Lỗi HTTP {status}", f"HTTP error {status}", f"Lỗi HTTP {status}."))
        super().__init__(detail_vi, detail)
        self.status = status  # type: ignore[misc]
        self.code = code  # type: ignore[misc]
        self.title_vi, self.title_en = title_vi, title_en  # type: ignore[misc]
        self.headers = dict(headers) if headers else None  # e.g. Allow on a 405


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` once a request body passes its limit.  An HTTPException, so that FastAPI's body
    parsing lets it through unchanged (any other error there becomes a 400); answered as ``413
    payload_too_large`` (:func:`http_error`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail="Request body too large")
        self.limit = limit


class HttpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_", env_file=".env", extra="ignore")

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description=(
        "Largest request body of an operation that does not set its own limit (the exchange's batch, job and "
        "enrichment uploads do; see docs/operations.md)."))


@lru_cache
def get_http_settings() -> HttpSettings:
    return HttpSettings()


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    """Caps every request body, by its declared ``Content-Length`` and while it streams in, before anything
    parses it or authenticates its sender.  Plain ASGI, around ``receive``: the limit is the matched route's
    ``body_limit`` attribute, else the first of ``prefixes`` its path starts with, else ``default``.

    Nothing is read while the route only routes: the declared length is judged at the body's first read (no
    ``100 Continue`` is sent for a body that is refused), each chunk as it arrives; past the limit ``receive``
    raises :class:`BodyTooLarge` and the answer is ``413 payload_too_large`` — whatever the application made of
    the interruption.  What was read is at most the limit plus one chunk of the server's (uvicorn: ~64 KiB).
    The rest of a refused body is drained by the server, never buffered."""

    def __init__(self, app: ASGIApp, default: int, prefixes: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.prefixes = sorted((prefixes or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, scope: Scope) -> int:
        route = scope.get("route")
        own: int | None = getattr(route, "body_limit", None)
        if own is not None:
            return own
        path = getattr(route, "path", None) or scope["path"]
        return next((limit for prefix, limit in self.prefixes if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        capped = _CappedBody(self, scope, receive, send)
        try:
            await self.app(scope, capped.receive, capped.send)
        except Exception:
            if capped.refused is None or capped.started:
                raise
        await capped.answer_refusal()


class _CappedBody:
    """One request's body as its route reads it, through :class:`BodyLimitMiddleware`."""

    def __init__(self, limits: BodyLimitMiddleware, scope: Scope, receive: Receive, send: Send) -> None:
        self.limits, self.scope, self._receive, self._send = limits, scope, receive, send
        self.declared = _declared_length(scope)
        self.limit: int | None = None
        self.received = 0
        self.refused: BodyTooLarge | None = None
        self.started = self.replaced = False

    def _refuse(self, limit: int) -> BodyTooLarge:
        self.refused = BodyTooLarge(limit)
        return self.refused

    async def receive(self) -> Message:
        if self.refused is not None:
            raise self.refused
        if self.limit is None:  # the route is known by the time its handler reads the body
            self.limit = self.limits.limit_for(self.scope)
            if self.declared is not None and self.declared > self.limit:
                raise self._refuse(self.limit)
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise self._refuse(self.limit)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            # the application answered the cut-off body its own way (not a 413): the 413 is sent instead
            self.replaced = self.refused is not None and message["status"] != 413
            self.started = not self.replaced
        if not self.replaced:
            await self._send(message)

    async def answer_refusal(self) -> None:
        if self.refused is not None and not self.started:
            response = problem_response(PayloadTooLarge(self.refused.limit), Request(self.scope))
            await response(self.scope, self._receive, self._send)


def install_body_limits(app: FastAPI, prefixes: Mapping[str, int] | None = None) -> None:
    """Every route's body capped (``DANCU_MAX_BODY_BYTES`` unless the route or a path prefix says otherwise)."""
    app.add_middleware(BodyLimitMiddleware, default=get_http_settings().max_body_bytes, prefixes=prefixes)


class MetricsMiddleware:
    """Counts and times requests by route template.  Plain ASGI (no BaseHTTPMiddleware): it adds no task
    or stream wrapping to each request, which matters on the verify hot path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], template, str(status)).inc()


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    session: Session = request.app.state.database.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details, with a stable machine code and Vietnamese and English text.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "description": "/problems/<code>"},
        "title": {"type": "string", "description": "Tiêu đề (Vietnamese title)"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "Chi tiết (Vietnamese detail)"},
        "code": {"type": "string", "description": "Stable machine-readable error code"},
        "title_en": {"type": "string"},
        "detail_en": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {k: {"type": "string"} for k in ("field", "code", "message_vi", "message_en")},
            },
        },
    },
    "additionalProperties": True,
}


def _is_default_error_body(response: dict[str, Any]) -> bool:
    """True unless the route documented its own error body (OAuth's token endpoint does)."""
    json_body = response.get("content", {}).get("application/json")
    return json_body is None or "HTTPValidationError" in str(json_body.get("schema", ""))


def install_problem_openapi(app: FastAPI) -> None:
    """Document what every operation really does on error: problem+json, for any 4xx/5xx it does not describe."""
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = base_openapi()
        document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"description": "Problem details (RFC 9457)",
                   "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, response in list(responses.items()):
                    if status[:1] in ("4", "5") and _is_default_error_body(response):
                        responses[status] = problem | {"description": response.get("description", "Problem")}
                responses.setdefault("default", problem)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


# scope="function": commit (or roll back) when the handler returns, *before* the response is sent, so a
# client never sees a success whose commit then failed, nor reads back a row not yet committed.
DbSession = Annotated[Session, Depends(db_session, scope="function")]
