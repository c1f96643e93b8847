"""Errors of the exchange log."""

from __future__ import annotations

from dancu.errors import DancuError, InvalidRequest, NotFound


class LedgerUnavailable(DancuError):
    """The log could not be written: the caller must refuse to answer (no answer without its log entry)."""

    code = "ledger_unavailable"
    status = 503
    title_vi = "Nhật ký chia sẻ không khả dụng"
    title_en = "Exchange log unavailable"


class NoTreeHead(NotFound):
    code = "no_tree_head"
    title_vi = "Chưa có gốc cây nhật ký được ký"
    title_en = "No signed tree head yet"


class TreeSizeOutOfRange(InvalidRequest):
    code = "tree_size_out_of_range"
    title_vi = "Kích thước cây không hợp lệ"
    title_en = "Tree size out of range"


class InvalidPeriod(InvalidRequest):
    code = "invalid_period"
    title_vi = "Khoảng thời gian không hợp lệ"
    title_en = "Invalid period"


class ArchiveError(DancuError):
    """An archive cannot be written, verified or pruned (the log is left as it was)."""

    code = "ledger_archive_error"
    status = 409
    title_vi = "Lỗi lưu trữ nhật ký"
    title_en = "Exchange-log archive error"
