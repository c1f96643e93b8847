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
        super().__init__(f"Tệp '{name}': chỉ nhận CSV (.csv), JSON Lines (.jsonl, .ndjson) hoặc Parquet (.parquet).",
                         f"File '{name}': only CSV (.csv), JSON Lines (.jsonl, .ndjson) or Parquet (.parquet) are "
                         "accepted.", file=name)


class UnsupportedColumn(DancuError):
    """A column the source reads holds lists, structs or maps (or a type with no text form): refused before the
    job starts, since a record's field must be one value."""

    code = "sync_unsupported_column"
    status = 422
    title_vi = "Kiểu cột không được hỗ trợ"
    title_en = "Unsupported column type"

    def __init__(self, column: str, type_name: str) -> None:
        super().__init__(f"Cột '{column}' có kiểu {type_name}: mỗi trường phải là một giá trị đơn (văn bản, số, "
                         "ngày), không phải danh sách hay cấu trúc lồng nhau.",
                         f"Column '{column}' is of type {type_name}: each field must be a single value (text, "
                         "number, date), not a list or a nested structure.", column=column, column_type=type_name)


class NoKnownColumn(DancuError):
    code = "sync_no_known_column"
    status = 422
    title_vi = "Tệp không có cột nào của nguồn dữ liệu"
    title_en = "The file has none of the source's columns"

    def __init__(self, name: str, expected: list[str]) -> None:
        listed = ", ".join(expected)
        super().__init__(f"Tệp '{name}' không có cột nào trong số: {listed}.",
                         f"File '{name}' has none of the columns {listed}.", file=name, expected=expected)


class UnreadableFile(DancuError):
    code = "sync_file_unreadable"
    status = 422
    title_vi = "Không đọc được tệp"
    title_en = "Unreadable file"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Không đọc được tệp '{name}': {reason}", f"Cannot read file '{name}': {reason}",
                         file=name, reason=reason)
