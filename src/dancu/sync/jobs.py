"""``dancu sync run``: one transaction per chunk — stage, match, apply, count, move the checkpoint — so a crash
or kill loses at most the chunk in flight and a rerun resumes after the last committed chunk.

The job key is ``sync:<source>:<sha256 of the file>``: the same content gives the same job wherever the file
lies, so running a finished file again does nothing, and a changed file is a new job.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from dancu.catalogs import names as catalog_names
from dancu.catalogs.lookup import CatalogLookup
from dancu.db import Database
from dancu.sync import readers
from dancu.sync import repository as repo
from dancu.sync.matching.records import Normaliser, ProvinceMap, Staged
from dancu.sync.sources import Source
from dancu.sync.staging import stage_line

DEFAULT_CHUNK_SIZE = 20_000
ChunkHook = Callable[[int], None]


@dataclass(frozen=True)
class RunResult:
    job_id: int
    job_key: str
    records: int  # records processed by this run
    chunks: int  # chunks committed by this run
    seconds: float
    report: dict[str, Any]
    already_done: bool = False


@dataclass(frozen=True)
class _Prepared:
    number: int
    lines: tuple[int, int]  # first and last line number of the chunk's records
    count: int
    copy_lines: list[str]
    end_offset: int
    end_line: int


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def job_key(source: Source, checksum: str) -> str:
    return f"sync:{source.code}:{checksum}"


def run(database: Database, source: Source, path: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: bool = False, after_chunk: ChunkHook | None = None) -> RunResult:
    """Synchronise ``path`` from ``source`` (or resume that job); idempotent.

    ``after_chunk(k)`` runs after chunk ``k`` of this run is committed (tests use it to simulate a crash).
    """
    started = time.perf_counter()
    readers.file_format(path)
    checksum = file_checksum(path)
    size = path.stat().st_size
    key = job_key(source, checksum)
    params = {"source": source.code, "sector_key": source.sector_key, "file": str(path), "size": size,
              "sha256": checksum, "format": readers.file_format(path)}
    normalise = Normaliser(source, _province_map(database))
    with database.raw_connection() as conn:
        _tune(conn)
        job_id, checkpoint, report, state = repo.open_job(conn, key, params, size)
        if state == "done":
            return RunResult(job_id, key, 0, 0, time.perf_counter() - started, report, already_done=True)
        report = _empty_report() | report
        records = chunks = 0
        last = time.perf_counter()
        with _progress(progress, size, int(checkpoint["offset"]), source.code) as advance:
            for prepared in _prepared(path, source, normalise, job_id, chunk_size, checkpoint):
                if not _store(conn, job_id, source, prepared, checkpoint, report, since=last):
                    break  # another run moved the checkpoint: leave the job to it
                last = time.perf_counter()
                checkpoint = {"offset": prepared.end_offset, "line": prepared.end_line}
                records, chunks = records + prepared.count, chunks + 1
                advance(prepared.end_offset, report["records"])
                if after_chunk:
                    after_chunk(prepared.number)
            else:
                report["finished_at"] = datetime.now(UTC).isoformat()
                repo.finish_job(conn, job_id, report)
    return RunResult(job_id, key, records, chunks, time.perf_counter() - started, report)


def _empty_report() -> dict[str, Any]:
    return {"records": 0, "chunks": 0, "outcomes": {}, "reasons": {}, "seconds": 0.0, "linked_applied": 0}


def _store(conn: psycopg.Connection, job_id: int, source: Source, prepared: _Prepared,
           checkpoint: dict[str, Any], report: dict[str, Any], since: float) -> bool:
    """Stage, match, apply and checkpoint one chunk in one transaction; False if the checkpoint moved."""
    with conn.transaction(), conn.cursor() as cur:
        current = repo.lock_checkpoint(cur, job_id)
        if current is None or int(current["offset"]) != int(checkpoint["offset"]):
            return False
        repo.copy_stage(cur, prepared.copy_lines)
        repo.match(cur, job_id, source.sector_key)
        applied = repo.apply_links(cur, job_id, prepared.lines, source.sector_key, actor=f"sync:{source.code}",
                                   source=f"sync:{source.code}:{job_id}",
                                   reason=f"đồng bộ {source.name}", at=datetime.now(UTC))
        _add_tally(report, repo.tally(cur, job_id, prepared.lines))
        report["records"] += prepared.count
        report["chunks"] += 1
        report["linked_applied"] += applied
        repo.clear_stage(cur, job_id)
        report["seconds"] = round(report["seconds"] + time.perf_counter() - since, 3)  # wall time over all runs
        repo.save_checkpoint(cur, job_id, {"offset": prepared.end_offset, "line": prepared.end_line}, report,
                             prepared.count)
    return True


def _add_tally(report: dict[str, Any], rows: list[tuple[str, list[str], int]]) -> None:
    outcomes, reasons = Counter(report["outcomes"]), Counter(report["reasons"])
    for outcome, codes, count in rows:
        outcomes[outcome] += count
        for code in codes:
            reasons[f"{outcome}:{code}"] += count
    report["outcomes"], report["reasons"] = dict(outcomes), dict(reasons)


def _prepared(path: Path, source: Source, normalise: Normaliser, job_id: int, chunk_size: int,
              checkpoint: dict[str, Any]) -> Iterator[_Prepared]:
    """Chunks after the checkpoint, each read and normalised in a thread while the previous one is stored."""
    batches = readers.batches(path, source.input_columns(), chunk_size, int(checkpoint["offset"]),
                              int(checkpoint["line"]))

    def next_one(number: int) -> _Prepared | None:
        batch = next(batches, None)
        return None if batch is None else _prepare(number, batch, normalise, job_id)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-read") as pool:
        pending = pool.submit(next_one, 0)
        number = 0
        while (prepared := pending.result()) is not None:
            number += 1
            pending = pool.submit(next_one, number)
            yield prepared


def _prepare(number: int, batch: readers.Batch, normalise: Normaliser, job_id: int) -> _Prepared:
    lines = []
    for record in batch.records:
        staged = normalise(record.values) if record.values is not None else Staged(problems=(str(record.error),))
        lines.append(stage_line(job_id, record.line_no, staged))
    span = (batch.records[0].line_no, batch.records[-1].line_no)
    return _Prepared(number, span, len(batch.records), lines, batch.end_offset, batch.end_line)


def _province_map(database: Database) -> ProvinceMap:
    """Old 63-province codes read as their 2025 province (noted), current codes as they are."""
    with database.sessions() as session:
        lookup = CatalogLookup.load(session, date.today())
    table: dict[str, tuple[str | None, str | None]] = {}
    for code in lookup.codes(catalog_names.PROVINCE_63) | _expired(lookup):
        table[code] = (lookup.map_code(catalog_names.PROVINCE_63_TO_34, code), "province_old_code")
    table.update({code: (code, None) for code in lookup.codes(catalog_names.PROVINCE)})
    unknown = (None, "province_unknown")
    return lambda code: table.get(code.zfill(2) if code.isdigit() and len(code) < 2 else code, unknown)


def _expired(lookup: CatalogLookup) -> set[str]:
    return {f"{n:02d}" for n in range(100) if lookup.has(catalog_names.PROVINCE_63, f"{n:02d}", include_expired=True)}


def _tune(conn: psycopg.Connection) -> None:
    """As the synth loader: the checkpoint commits with its chunk, so an OS crash losing the last commits only
    makes the rerun redo those chunks."""
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '64MB'")
    conn.commit()


@contextmanager
def _progress(enabled: bool, total: int, completed: int, label: str) -> Iterator[Callable[[int, int], None]]:
    if not enabled:
        yield lambda _offset, _records: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (TextColumn(f"sync {label}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TextColumn("{task.fields[records]:,} records"), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("sync", total=total, completed=completed, records=0)
        yield lambda offset, records: bar.update(task, completed=offset, records=records)
