"""Errors of sector synchronisation, each with its stable code and HTTP status."""

from __future__ import annotations

from dancu.errors import Conflict, DancuError, NotFound


class UnknownSource(NotFound):
    code = "sync_source_unknown"
    title_vi = "Không có nguồn dữ liệu này"
    title_en = "Unknown sector source"

    def __init__(self, source: str) -> None:
        super().__init__(f"Không có nguồn dữ liệu chuyên ngành '{source}'.", f"No sector source '{source}'.",
                         source=source)


class JobNotFound(NotFound):
    code = "sync_job_not_found"
    title_vi = "Không có phiên đồng bộ này"
    title_en = "Synchronisation job not found"

    def __init__(self, job_id: int) -> None:
        super().__init__(f"Không có phiên đồng bộ {job_id}.", f"No synchronisation job {job_id}.", job_id=job_id)


class ReviewItemNotFound(NotFound):
    code = "sync_review_not_found"
    title_vi = "Không có bản ghi chờ duyệt này"
    title_en = "Review item not found"

    def __init__(self, item: str) -> None:
        super().__init__(f"Không có bản ghi chờ duyệt '{item}'.", f"No review item '{item}'.", item=item)


class ReviewClosed(Conflict):
    code = "sync_review_closed"
    title_vi = "Bản ghi đã được xử lý"
    title_en = "Review item already decided"

    def __init__(self, item: str, state: str) -> None:
        super().__init__(f"Bản ghi '{item}' đã được xử lý ({state}).", f"Review item '{item}' is already {state}.",
                         item=item, state=state)


class UnsupportedFormat(DancuError):
    code = "sync_unsupported_format"
    status = 422
    title_vi = "Định dạng tệp không được hỗ trợ"
    title_en = "Unsupported file format"

    def __init__(self, name: str) -> None:
        super().__init__(f"Tệp '{name}': chỉ nhận CSV (.csv) hoặc JSON Lines (.jsonl).",
                         f"File '{name}': only CSV (.csv) or JSON Lines (.jsonl) are accepted.")
