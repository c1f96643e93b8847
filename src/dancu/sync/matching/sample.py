"""The first records of a sector file, with their physical line numbers (the CSV header is line 1) — what model
training reads back to pair ID-confirmed lines with their residents.  Bounded: stops after ``limit`` records."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import orjson

Values = tuple[str | None, ...]


def head_records(path: Path, columns: tuple[str | None, ...], limit: int) -> Iterator[tuple[int, Values]]:
    """``columns`` in the order of ``Source.input_columns()`` (the personal ID's column first)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv(path, columns, limit)
    elif suffix == ".parquet":
        from dancu.sync import parquet  # pyarrow only when a Parquet file is read

        yield from parquet.head_records(path, columns, limit, personal_id=columns[0])
    else:
        yield from _jsonl(path, columns, limit)


def _csv(path: Path, columns: tuple[str | None, ...], limit: int) -> Iterator[tuple[int, Values]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as stream:
        counted = _Counted(stream)
        reader = csv.reader(counted)
        header = [h.strip().removeprefix("\ufeff") for h in next(reader, [])]
        where = [header.index(c) if c in header else None for c in columns]
        start = counted.line + 1
        for count, row in enumerate(reader):
            if count >= limit:
                return
            if len(row) == len(header):
                yield start, tuple(row[i] if i is not None else None for i in where)
            start = counted.line + 1


def _jsonl(path: Path, columns: tuple[str | None, ...], limit: int) -> Iterator[tuple[int, Values]]:
    with path.open("rb") as stream:
        for line_no, line in enumerate(stream, start=1):
            if line_no > limit:
                return
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(doc, dict):
                yield line_no, tuple(None if c is None or doc.get(c) is None else str(doc[c]) for c in columns)


class _Counted:
    """Lines for ``csv.reader``, counting how many it has pulled (a quoted field may span lines)."""

    def __init__(self, stream: object) -> None:
        self.stream, self.line = iter(stream), 0  # type: ignore[call-overload]

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> str:
        text = next(self.stream)
        self.line += 1
        return str(text)
