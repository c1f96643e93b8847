"""HTTP plumbing shared by every capability: problem+json handlers, request metrics, the DB session dependency."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from prometheus_client import Counter, Histogram
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dancu.errors import PROBLEM_CONTENT_TYPE, DancuError, InternalError, ValidationFailed, field_error

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
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        message = str(item.get("msg", "invalid"))
        errors.append(field_error(location or "body", str(item.get("type", "invalid")),
                                  f"Trường '{location}' không hợp lệ: {message}", f"'{location}': {message}"))
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    async def on_dancu_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DancuError)
        return problem_response(exc, request)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(ValidationFailed(_validation_errors(exc)), request)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error = HttpProblem(exc.status_code, str(exc.detail))
        return problem_response(error, request)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(InternalError("Đã có lỗi hệ thống; vui lòng thử lại sau.",
                                              "An internal error occurred; please retry later."), request)

    app.add_exception_handler(DancuError, on_dancu_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


class HttpProblem(DancuError):
    """A plain HTTP error (unknown path, wrong method) in problem form."""

    _codes: ClassVar[dict[int, str]] = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail, detail)
        self.status = status  # type: ignore[misc]
        self.code = self._codes.get(status, f"http_{status}")  # type: ignore[misc]
        self.title_vi = self.title_en = detail  # type: ignore[misc]


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
