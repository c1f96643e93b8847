"""A pushed batch, checked and made canonical — pure, no I/O.

Structure is checked here and refused whole (a column the source does not declare, text that cannot be
written as UTF-8); content is not — a missing name, an impossible date or a malformed identifier is a record
outcome (``rejected`` with its reason) decided by the pipeline, exactly as for a file.

Canonical form: one JSON object per line, keys sorted, null values dropped, UTF-8.  Two pushes of the same
records in the same order are the same bytes whatever their key order or spacing, hence the same job key
(``sync:<source>:<sha256>``): the second push finds the job done and applies nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from dancu.errors import ValidationFailed, field_error
from dancu.sync.sources import Source

MAX_RECORDS = 10_000  # per push; the whole batch is one chunk, hence one transaction
MAX_ERRORS = 100  # listed in a refusal; the rest are counted
_SEPARATORS = re.compile(r"[\s.\-]")  # what the pipeline strips from a personal ID before reading its 12 digits
_PERSONAL_ID = re.compile(r"^[0-9]{12}$")

Record = Mapping[str, str | None]


@dataclass(frozen=True)
class Batch:
    source: Source
    data: bytes  # canonical JSON Lines
    sha256: str  # hex, of ``data``: the job key's last part
    records: int
    personal_ids: tuple[str, ...]  # well-formed personal IDs the batch names, distinct, in order


def columns_of(source: Source) -> frozenset[str]:
    """The input columns a record of ``source`` may carry."""
    return frozenset(source.columns.values()) | {source.identifier_column}


def batch(source: Source, records: Sequence[Record]) -> Batch:
    """The canonical batch, or :class:`ValidationFailed` listing each record and column at fault."""
    allowed = columns_of(source)
    lines: list[bytes] = []
    errors: list[dict[str, str]] = []
    for index, record in enumerate(records):
        errors += _unknown_columns(index, record, allowed)
        try:
            lines.append(canonical_line(record))
        except orjson.JSONEncodeError:
            errors.append(field_error(f"records.{index}", "invalid_text",
                                      f"Bản ghi {index} chứa ký tự không hợp lệ (không mã hoá được UTF-8).",
                                      f"Record {index} holds text that is not valid Unicode (lone surrogate)."))
    if errors:
        raise ValidationFailed(_capped(errors))
    data = b"\n".join(lines) + b"\n"
    return Batch(source, data, hashlib.sha256(data).hexdigest(), len(lines), personal_ids(source, records))


def canonical_line(record: Record) -> bytes:
    return orjson.dumps({k: v for k, v in record.items() if v is not None}, option=orjson.OPT_SORT_KEYS)


def personal_ids(source: Source, records: Sequence[Record]) -> tuple[str, ...]:
    column = source.columns.get("personal_id")
    if column is None:
        return ()
    found: dict[str, None] = {}
    for record in records:
        digits = _SEPARATORS.sub("", (record.get(column) or "").strip())
        if _PERSONAL_ID.match(digits):
            found.setdefault(digits)
    return tuple(found)


def _unknown_columns(index: int, record: Record, allowed: frozenset[str]) -> list[dict[str, str]]:
    return [field_error(f"records.{index}.{name}", "unknown_column",
                        f"Cột '{name}' không thuộc nguồn dữ liệu này.",
                        f"Column '{name}' is not one of this source's columns: {', '.join(sorted(allowed))}.")
            for name in record if name not in allowed]


def _capped(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(errors) <= MAX_ERRORS:
        return errors
    rest = len(errors) - MAX_ERRORS
    return [*errors[:MAX_ERRORS], field_error("records", "more_errors", f"… và {rest} lỗi khác.",
                                              f"… and {rest} more errors.")]
