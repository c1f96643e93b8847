"""Stream a sector file in batches from a byte offset, never holding more than one batch in memory.

Each batch ends on a record boundary and carries the byte offset and physical line number just after
its last record: the job checkpoint.  ``line_no`` of a record is the physical line it starts on (the
CSV header is line 1), so an operator can find a rejected record in the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from dancu.sync.errors import UnsupportedFormat

Values = tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class RawRecord:
    line_no: int
    values: Values | None  # one per input column asked for; None when the line could not be parsed
    error: str | None = None  # reason code when ``values`` is None


@dataclass(frozen=True, slots=True)
class Batch:
    records: list[RawRecord]
    end_offset: int  # byte offset just after the last record
    end_line: int  # physical lines consumed up to ``end_offset``


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise UnsupportedFormat(path.name)


def batches(path: Path, columns: tuple[str | None, ...], size: int, offset: int = 0, line: int = 0) -> Iterator[Batch]:
    """Batches of ``size`` records from ``offset`` (0 = start of file; ``line`` = lines before it)."""
    reader = _csv_batches if file_format(path) == "csv" else _jsonl_batches
    with path.open("rb") as stream:
        yield from reader(stream, columns, size, offset, line)


class _Lines:
    """Decoded lines of a binary stream, counting bytes and lines as csv pulls them."""

    def __init__(self, stream: BinaryIO, offset: int, line: int) -> None:
        self.stream, self.offset, self.line = stream, offset, line

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self.stream.readline()
        if not raw:
            raise StopIteration
        self.offset += len(raw)
        self.line += 1
        return raw.decode("utf-8", errors="replace")


def _csv_batches(stream: BinaryIO, columns: tuple[str | None, ...], size: int, offset: int,
                 line: int) -> Iterator[Batch]:
    header_lines = _Lines(stream, 0, 0)
    header = next(csv.reader(header_lines), None)
    if header is None:
        return
    header = [name.strip().lstrip("\ufeff") for name in header]
    positions = [header.index(c) if c in header else None for c in columns]
    if offset:
        stream.seek(offset)
        lines = _Lines(stream, offset, line)
    else:
        lines = header_lines
    width = len(header)
    records: list[RawRecord] = []
    start = lines.line + 1
    for row in csv.reader(lines):
        records.append(_csv_record(start, row, positions, width))
        start = lines.line + 1
        if len(records) >= size:
            yield Batch(records, lines.offset, lines.line)
            records = []
    if records:
        yield Batch(records, lines.offset, lines.line)


def _csv_record(line_no: int, row: list[str], positions: list[int | None], width: int) -> RawRecord:
    if len(row) != width:
        return RawRecord(line_no, None, "wrong_column_count" if row else "empty_line")
    values = tuple(row[p] if p is not None else None for p in positions)
    if any(v is not None and "\ufffd" in v for v in values):
        return RawRecord(line_no, None, "invalid_utf8")
    return RawRecord(line_no, values)


def _jsonl_batches(stream: BinaryIO, columns: tuple[str | None, ...], size: int, offset: int,
                   line: int) -> Iterator[Batch]:
    stream.seek(offset)
    records: list[RawRecord] = []
    for raw in stream:
        offset += len(raw)
        line += 1
        if raw.strip():
            records.append(_json_record(line, raw, columns))
        if len(records) >= size:
            yield Batch(records, offset, line)
            records = []
    if records:
        yield Batch(records, offset, line)


def _json_record(line_no: int, raw: bytes, columns: tuple[str | None, ...]) -> RawRecord:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return RawRecord(line_no, None, "invalid_json")
    if not isinstance(data, dict):
        return RawRecord(line_no, None, "not_an_object")
    values = tuple(_scalar(data.get(c)) if c is not None else None for c in columns)
    return RawRecord(line_no, values)


def _scalar(value: object) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)
