"""Errors as RFC 9457 problem details, each with a stable machine code and a Vietnamese and English message.

Services raise :class:`DancuError` subclasses; the HTTP layer turns them into
``application/problem+json``; the CLI prints them.  Codes never change once published —
integrators branch on them.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"


class DancuError(Exception):
    """Base of every error a caller may see."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title_vi: ClassVar[str] = "Yêu cầu không hợp lệ"
    title_en: ClassVar[str] = "Invalid request"

    def __init__(self, detail_vi: str, detail_en: str, **extra: Any) -> None:
        super().__init__(detail_en)
        self.detail_vi = detail_vi
        self.detail_en = detail_en
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title_vi,
            "status": self.status,
            "detail": self.detail_vi,
            "code": self.code,
            "title_en": self.title_en,
            "detail_en": self.detail_en,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class ValidationFailed(DancuError):
    code = "validation_failed"
    status = 422
    title_vi = "Dữ liệu không hợp lệ"
    title_en = "Validation failed"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        first = errors[0] if errors else {"message_vi": "", "message_en": ""}
        more_vi = f" (và {len(errors) - 1} lỗi khác)" if len(errors) > 1 else ""
        more_en = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            first.get("message_vi", "") + more_vi, first.get("message_en", "") + more_en, errors=errors
        )


class NotFound(DancuError):
    code = "not_found"
    status = 404
    title_vi = "Không tìm thấy"
    title_en = "Not found"


class Conflict(DancuError):
    code = "conflict"
    status = 409
    title_vi = "Xung đột dữ liệu"
    title_en = "Conflict"


class InvalidRequest(DancuError):
    code = "invalid_request"
    status = 400


class PayloadTooLarge(DancuError):
    """A request body over its operation's limit, refused before it is parsed or its sender identified."""

    code = "payload_too_large"
    status = 413
    title_vi = "Nội dung yêu cầu quá lớn"
    title_en = "Request body too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Nội dung yêu cầu vượt quá giới hạn {limit:,} byte của thao tác này; hãy chia nhỏ.",
                         f"The request body exceeds this operation's limit of {limit:,} bytes; split it.",
                         limit=limit)


class InternalError(DancuError):
    code = "internal_error"
    status = 500
    title_vi = "Lỗi hệ thống"
    title_en = "Internal error"


def field_error(field: str, code: str, message_vi: str, message_en: str) -> dict[str, str]:
    """One entry of a :class:`ValidationFailed` error list."""
    return {"field": field, "code": code, "message_vi": message_vi, "message_en": message_en}
