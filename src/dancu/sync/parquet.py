"""Parquet input: the file's records, read batch by batch, rendered as CSV chunks — so staging, both chunk
statements, the exchange-log entry, checkpoints and resume are those of a CSV file.

Only the columns the source reads are read.  A chunk is ``size`` records (the last one fewer), numbered from
the start of the file: chunk *k* holds records ``k·size …``, so a resumed run starts at a record index (the
checkpoint's ``offset``), skipping whole row groups by their metadata.  A record's line is its index + 2 (line
1 is the header, as in CSV).  Values are rendered as text the way a CSV file writes them: dates as
``YYYY-MM-DD``, a timestamp as its date (in its own time zone), a numeric personal-ID column zero-padded to 12
digits (an integer cannot keep the leading zeros of ``001…``), nulls as empty fields.  Memory: one row group's
pages of the selected columns, one chunk and the batch being read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from dancu.sync.errors import NoKnownColumn, UnreadableFile, UnsupportedColumn

PERSONAL_ID_DIGITS = 12
_OPTIONS = pa_csv.WriteOptions(include_header=False)
Render = Callable[[pa.ChunkedArray], pa.ChunkedArray]


def row_count(path: Path) -> int:
    with _open(path) as file:
        return int(file.metadata.num_rows)


def columns(path: Path, wanted: list[str]) -> list[str]:
    """The columns of ``wanted`` the file has, in the file's order; a nested or unrenderable one is refused, and
    so is a file with none of them."""
    with _open(path) as file:
        schema = file.schema_arrow
    found = [name for name in schema.names if name in wanted]
    if not found:
        raise NoKnownColumn(path.name, wanted)
    for name in found:
        _check(schema.field(name))
    return found


def chunks(path: Path, names: list[str], offset: int, size: int, first_number: int,
           personal_id: str | None = None) -> Iterator[tuple[int, bytes, int]]:
    """(number, CSV bytes, records) of each chunk of ``size`` records from record ``offset``."""
    renders = [_render(name == personal_id) for name in names]
    number = first_number
    try:
        with _open(path) as file:
            for table in _tables(_batches(file, names, offset, size), size):
                yield number, _csv(table, renders), table.num_rows
                number += 1
    except (pa.ArrowException, OSError) as error:
        raise UnreadableFile(path.name, str(error)) from error


def head_records(path: Path, columns: tuple[str | None, ...], limit: int,
                 personal_id: str | None = None) -> Iterator[tuple[int, tuple[str | None, ...]]]:
    """(line, values of ``columns`` as the stage reads them, None for an empty or absent one) of the first
    ``limit`` records — what stage (b)'s model training reads back, as ``matching.sample`` does for CSV."""
    with _open(path) as file:
        present = set(file.schema_arrow.names)
    names = [c for c in dict.fromkeys(columns) if c is not None and c in present]
    if not names:
        return
    for _number, data, _records in chunks(path, names, 0, limit, 0, personal_id):
        rows = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
        for index, row in enumerate(rows):
            values = dict(zip(names, row, strict=False))
            yield index + 2, tuple(values.get(c) or None if c is not None else None for c in columns)
        return


def _open(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise UnreadableFile(path.name, str(error)) from error


def _check(field: pa.Field) -> None:
    if pa.types.is_nested(field.type):
        raise UnsupportedColumn(field.name, str(field.type))
    try:
        _render(False)(pa.chunked_array([], field.type))
    except pa.ArrowNotImplementedError as error:
        raise UnsupportedColumn(field.name, str(field.type)) from error


def _batches(file: pq.ParquetFile, names: list[str], offset: int, size: int) -> Iterator[pa.RecordBatch]:
    """Record batches from record ``offset``: whole row groups before it are never read."""
    first, skip = 0, offset
    while first < file.num_row_groups and skip >= file.metadata.row_group(first).num_rows:
        skip -= file.metadata.row_group(first).num_rows
        first += 1
    if first == file.num_row_groups:
        return
    for batch in file.iter_batches(batch_size=size, row_groups=range(first, file.num_row_groups), columns=names):
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        yield batch.slice(skip)
        skip = 0


def _tables(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.Table]:
    """Exactly ``size`` records at a time (batches end where row groups do), the last table fewer."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            pending, count = table.slice(size).to_batches(), count - size
    if count:
        yield pa.Table.from_batches(pending)


def _render(personal_id: bool) -> Render:
    def render(column: pa.ChunkedArray) -> pa.ChunkedArray:
        kind = column.type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind) \
                or pa.types.is_binary_view(kind):
            return pc.cast(column, pa.large_binary())  # as text if valid UTF-8: written as its bytes
        if pa.types.is_timestamp(kind):
            local = pc.local_timestamp(column) if kind.tz else column
            column = pc.cast(local, pa.date32())
        text = pc.cast(column, pa.large_string())
        if personal_id and (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
            text = pc.utf8_lpad(text, width=PERSONAL_ID_DIGITS, padding="0")
        return text
    return render


def _csv(table: pa.Table, renders: list[Render]) -> bytes:
    """The records as CSV (no header); a value that is not valid UTF-8 is written as its bytes, which COPY
    refuses, so that chunk takes the line-by-line path and the record is rejected ``invalid_utf8``."""
    texts = [render(column) for render, column in zip(renders, table.columns, strict=True)]
    sink = pa.BufferOutputStream()
    try:
        pa_csv.write_csv(pa.table(texts, names=table.column_names), sink, _OPTIONS)
    except pa.ArrowInvalid:
        return _csv_in_python(texts)
    return bytes(sink.getvalue().to_pybytes())


def _csv_in_python(texts: list[pa.ChunkedArray]) -> bytes:
    values = [[None if v is None else v.decode("utf-8", "surrogateescape")
               for v in pc.cast(column, pa.large_binary()).to_pylist()] for column in texts]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(zip(*values, strict=True))
    return out.getvalue().encode("utf-8", "surrogateescape")
