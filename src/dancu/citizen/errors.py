"""Errors of the citizen channels (each carries its HTTP status)."""

from __future__ import annotations

from dancu.errors import DancuError, NotFound


class BadSignature(DancuError):
    code = "bad_signature"
    status = 401
    title_vi = "Chữ ký không hợp lệ"
    title_en = "Invalid signature"


class StaleRequest(DancuError):
    code = "stale_request"
    status = 401
    title_vi = "Yêu cầu quá cũ hoặc sai thời gian"
    title_en = "Request too old or mistimed"


class CorrectionNotFound(NotFound):
    code = "correction_not_found"


class CorrectionAlreadyAnswered(DancuError):
    code = "correction_already_answered"
    status = 409
    title_vi = "Yêu cầu đã được trả lời"
    title_en = "Request already answered"
