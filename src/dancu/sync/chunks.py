"""Cut a sector file into chunks of whole records, as raw bytes, from a byte offset — no per-record Python.

:class:`Input` is what a job reads, whatever the format: its stage columns, where a checkpoint resumes, and its
chunks (a Parquet file's come from ``parquet``, rendered as CSV).  A CSV or JSON Lines chunk ends after its
``lines``-th newline, moved on to the next newline while a CSV quote is still open (an even number of ``"``
before a newline means it ends a record: ``""`` inside a quoted field counts twice), or at the end of the file.
Each chunk carries what the job checkpoints after it (byte offset, physical lines read) and the SHA-256 of its
bytes (for the exchange-log entry).  Memory: one chunk and one read block.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dancu.sync import parquet
from dancu.sync.errors import UnsupportedFormat

BLOCK = 1 << 20
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Chunk:
    number: int  # 0, 1, … from the start of the file (for a given chunk size)
    data: bytes
    first_line: int  # physical line number of the chunk's first line (the CSV header is line 1)
    lines: int  # physical lines in the chunk
    end_offset: int  # just after the chunk, for the checkpoint: a byte offset (a record index for Parquet)
    sha256: bytes

    @property
    def end_line(self) -> int:
        return self.first_line + self.lines - 1


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".parquet":
        return "parquet"
    raise UnsupportedFormat(path.name)


@dataclass(frozen=True)
class Input:
    """A sector file as a job reads it.  ``header``: the stage's columns (CSV: the header; Parquet: the columns
    the source reads that the file has; JSON Lines: none).  ``extent``: the checkpoint's ``offset`` once every
    chunk is committed — the file's size in bytes, or its record count for Parquet (whose offsets are record
    indexes, and whose lines are record index + 2)."""

    path: Path
    fmt: str
    header: list[str]
    extent: int
    data_start: int = 0  # CSV: the byte offset of the first line after the header
    personal_id: str | None = None  # Parquet: the column whose numbers are zero-padded to 12 digits

    def chunks(self, point: dict[str, Any], size: int) -> Iterator[Chunk]:
        """Chunks of ``size`` lines (records, for Parquet) from the checkpoint ``point`` on, numbered from its
        ``chunk`` (see ``checkpoints``)."""
        offset, line, number = int(point["offset"]), int(point["line"]), int(point.get("chunk", 0))
        if self.fmt == "parquet":
            return _parquet_chunks(self, offset, size, number)
        if offset == 0 and self.fmt == "csv":
            offset, line = self.data_start, 1
        return chunks(self.path, offset, line, size, quoted=self.fmt == "csv", first_number=number)


def open_input(path: Path, wanted: list[str], personal_id: str | None = None) -> Input:
    """The file at ``path`` for a source reading the columns ``wanted``; raises before any work is done on an
    unknown suffix, an unreadable Parquet file, or a Parquet column the source reads that holds lists or
    structs."""
    fmt = file_format(path)
    if fmt == "parquet":
        return Input(path, fmt, parquet.columns(path, wanted), parquet.row_count(path), personal_id=personal_id)
    if fmt == "csv":
        header, data_start = csv_header(path)
        return Input(path, fmt, header, path.stat().st_size, data_start)
    return Input(path, fmt, [], path.stat().st_size)


def _parquet_chunks(file: Input, offset: int, size: int, number: int) -> Iterator[Chunk]:
    for n, data, records in parquet.chunks(file.path, file.header, offset, size, number, file.personal_id):
        yield Chunk(n, data, offset + 2, records, offset + records, hashlib.sha256(data).digest())
        offset += records


def csv_header(path: Path) -> tuple[list[str], int]:
    """The header's column names (BOM and spaces stripped) and the byte offset of the first data line."""
    with path.open("rb") as stream:
        raw = _header_bytes(stream)
    names = next(csv.reader([raw.decode("utf-8", errors="replace").removeprefix("\ufeff")]), [])
    return [name.strip() for name in names], len(raw)


def _header_bytes(stream: BinaryIO) -> bytes:
    raw = b""
    while line := stream.readline():
        raw += line
        if raw.count(b'"') % 2 == 0:
            break
    return raw


def chunks(path: Path, offset: int, line: int, lines: int, quoted: bool = True,
           first_number: int = 0) -> Iterator[Chunk]:
    """Chunks of about ``lines`` physical lines from ``offset`` (``line`` = physical lines before it), numbered
    from ``first_number``.

    ``quoted``: CSV quoting may hide newlines inside fields (False for JSON Lines, where it cannot).
    """
    with path.open("rb") as stream:
        stream.seek(offset)
        rest = b""
        number = first_number
        while True:
            data, rest, eof = _next_chunk(stream, rest, lines, quoted)
            if not data:
                return
            count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            offset += len(data)
            yield Chunk(number, data, line + 1, count, offset, hashlib.sha256(data).digest())
            line += count
            number += 1
            if eof and not rest:
                return


def _next_chunk(stream: BinaryIO, rest: bytes, lines: int, quoted: bool) -> tuple[bytes, bytes, bool]:
    """(chunk, the bytes read past it, end of file reached)."""
    blocks = [rest]
    newlines = rest.count(b"\n")
    eof = False
    while newlines < lines:
        block = stream.read(BLOCK)
        if not block:
            eof = True
            break
        blocks.append(block)
        newlines += block.count(b"\n")
    buffer = b"".join(blocks)
    cut = len(buffer) if newlines < lines else _nth_newline(buffer, lines) + 1
    if quoted and cut < len(buffer) and b'"' in buffer:
        cut, buffer, eof = _close_quotes(stream, buffer, cut, eof)
    return buffer[:cut], buffer[cut:], eof


def _nth_newline(buffer: bytes, n: int) -> int:
    """Index of the n-th newline (1-based) of ``buffer``, which holds at least n: found walking back from the
    end, since the surplus past it is at most one read block."""
    position = len(buffer)
    for _ in range(buffer.count(b"\n") - n + 1):
        position = buffer.rindex(b"\n", 0, position)
    return position


def _close_quotes(stream: BinaryIO, buffer: bytes, cut: int, eof: bool) -> tuple[int, bytes, bool]:
    """Move ``cut`` on, newline by newline, until no quote is open before it (reading more if needed)."""
    quotes = buffer.count(b'"', 0, cut)
    while quotes % 2:
        following = buffer.find(b"\n", cut)
        while following < 0 and not eof:
            block = stream.read(BLOCK)
            eof = not block
            buffer += block
            following = buffer.find(b"\n", cut)
        end = len(buffer) if following < 0 else following + 1
        quotes += buffer.count(b'"', cut, end)
        cut = end
        if following < 0:
            break
    return cut, buffer, eof
