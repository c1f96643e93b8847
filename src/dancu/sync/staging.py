"""The slow path of staging: a chunk that ``COPY`` refuses (a wrong column count, invalid UTF-8, a NUL, bad JSON)
or whose records span lines is parsed line by line here, each bad line becoming a row with its reason code.
A Parquet chunk (rendered as CSV) comes here only when COPY refuses it; its records are numbered one by one.

Only such chunks pay for Python parsing; the rows go into the same TEMP stage, keyed by physical line number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import orjson

Row = tuple[Any, ...]


def _lines(data: bytes) -> Iterator[bytes]:
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        yield data[start:end]
        start = end


def csv_rows(data: bytes, first_line: int, width: int, *, by_record: bool = False) -> list[Row]:
    """(line_no, problem, c0…) for each record of the chunk; a record's line is the line it starts on, or with
    ``by_record`` (a Parquet chunk rendered as CSV, whose values may hold newlines) ``first_line`` + its index."""
    counter = _Counter(_lines(data), first_line)
    rows: list[Row] = []
    start = first_line
    for fields in csv.reader(counter):
        if by_record:
            one_empty = not fields and width == 1  # a one-column record with a null value renders as an empty line
            rows.append(_csv_row(first_line + len(rows), [""] if one_empty else fields, width))
            continue
        rows.append(_csv_row(start, fields, width))
        start = counter.line + 1
    return rows


class _Counter:
    """Decoded lines for ``csv.reader``, counting the physical lines it has pulled."""

    def __init__(self, lines: Iterator[bytes], first_line: int) -> None:
        self.lines, self.line = lines, first_line - 1

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> str:
        raw = next(self.lines)
        self.line += 1
        return raw.decode("utf-8", errors="replace")


def _csv_row(line_no: int, fields: list[str], width: int) -> Row:
    empty = (None,) * width
    if len(fields) != width:
        return (line_no, "wrong_column_count" if fields else "empty_line", *empty)
    if any("\ufffd" in value for value in fields):
        return (line_no, "invalid_utf8", *empty)
    if any("\x00" in value for value in fields):
        return (line_no, "nul_character", *empty)
    return (line_no, None, *(value if value != "" else None for value in fields))


def jsonl_rows(data: bytes, first_line: int) -> list[Row]:
    """(line_no, problem, doc) for each non-blank line."""
    rows: list[Row] = []
    for offset, raw in enumerate(_lines(data)):
        if raw.strip():
            rows.append((first_line + offset, *_json_doc(raw)))
    return rows


def _json_doc(raw: bytes) -> tuple[str | None, str | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8", None
    if "\x00" in text or "\\u0000" in text:
        return "nul_character", None
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "invalid_json", None
    return None, text.strip()
