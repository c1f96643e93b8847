"""``dancu sync run``: one transaction per chunk — COPY the chunk's bytes into the TEMP stage, normalise, match,
link and record in one statement, count, append the exchange-log entry, move the checkpoint — so a crash or kill
loses at most the chunk in flight and a rerun resumes after the last committed chunk.

The job key is ``sync:<source>:<sha256 of the file>``: the same content gives the same job wherever the file
lies, so running a finished file again does nothing, and a changed file is a new one.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from dancu.catalogs import names as catalog_names
from dancu.catalogs.lookup import CatalogLookup
from dancu.db import Database
from dancu.sync import audit, chunks, staging
from dancu.sync import repository as repo
from dancu.sync.sources import Source

DEFAULT_CHUNK_SIZE = 100_000  # physical lines per transaction
LAST_YEAR = 2100  # a date of birth after it is invalid (as matching.records.Normaliser)
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
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase of this run
    slow_chunks: int = 0  # chunks COPY refused, parsed line by line


@dataclass
class _Plan:
    """What every chunk of a run shares."""

    job_id: int
    source: Source
    fmt: str
    width: int
    sql: str
    params: dict[str, Any]
    phases: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    slow_chunks: int = 0


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def job_key(source: Source, checksum: str) -> str:
    return f"sync:{source.code}:{checksum}"


def run(database: Database, source: Source, path: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
        progress: bool = False, after_chunk: ChunkHook | None = None, chunk_delay: float = 0.0) -> RunResult:
    """Synchronise ``path`` from ``source`` (or resume that job); idempotent.

    ``after_chunk(k)`` runs after chunk ``k`` of this run is committed (tests use it to simulate a crash);
    ``chunk_delay`` sleeps after each commit (the SIGKILL test uses it to kill mid-file).
    """
    started = time.perf_counter()
    fmt = chunks.file_format(path)
    checksum = file_checksum(path)
    hashed = time.perf_counter()
    size = path.stat().st_size
    key = job_key(source, checksum)
    header, data_start = chunks.csv_header(path) if fmt == "csv" else ([], 0)
    params = {"source": source.code, "sector_key": source.sector_key, "file": str(path), "size": size,
              "sha256": checksum, "format": fmt}
    provinces = _province_table(database)
    with database.raw_connection() as conn:
        _tune(conn)
        job_id, checkpoint, report, state = repo.open_job(conn, key, params, size)
        if state == "done":
            return RunResult(job_id, key, 0, 0, time.perf_counter() - started, report, already_done=True)
        audit.ensure_partition(conn)
        repo.create_stage(conn, fmt, len(header), provinces)
        plan = _Plan(job_id, source, fmt, len(header), repo.judge_sql(source, fmt, header),
                     repo.judge_params(source, job_id, LAST_YEAR))
        plan.phases["checksum"] = hashed - started
        report = _empty_report() | report
        offset, line = int(checkpoint["offset"]), int(checkpoint["line"])
        start = (data_start, 1) if offset == 0 and fmt == "csv" else (offset, line)
        records = done_chunks = 0
        last = time.perf_counter()
        with _progress(progress, size, offset, source.code) as advance:
            for chunk in _prefetched(chunks.chunks(path, *start, chunk_size, quoted=fmt == "csv"), plan):
                stored = _store(conn, plan, chunk, offset, report, since=last)
                if stored is None:
                    break  # another run moved the checkpoint: leave the job to it
                last = time.perf_counter()
                offset = chunk.end_offset
                records, done_chunks = records + stored, done_chunks + 1
                advance(chunk.end_offset, report["records"])
                if after_chunk:
                    after_chunk(chunk.number)
                if chunk_delay:
                    time.sleep(chunk_delay)
            else:
                report["finished_at"] = datetime.now(UTC).isoformat()
                repo.finish_job(conn, job_id, report)
    return RunResult(job_id, key, records, done_chunks, time.perf_counter() - started, report,
                     phases={k: round(v, 3) for k, v in plan.phases.items()}, slow_chunks=plan.slow_chunks)


def _empty_report() -> dict[str, Any]:
    return {"records": 0, "chunks": 0, "outcomes": {}, "reasons": {}, "seconds": 0.0, "linked_applied": 0}


def _store(conn: psycopg.Connection, plan: _Plan, chunk: chunks.Chunk, expected_offset: int,
           report: dict[str, Any], since: float) -> int | None:
    """Stage, judge, log and checkpoint one chunk in one transaction; its record count, None if the checkpoint
    moved (another run)."""
    with conn.transaction(), conn.cursor() as cur:
        current = repo.lock_checkpoint(cur, plan.job_id)
        if current is None or int(current["offset"]) != expected_offset:
            return None
        t0 = time.perf_counter()
        _stage(conn, cur, plan, chunk)
        t1 = time.perf_counter()
        tally, applied = repo.judge(cur, plan.sql, plan.params)
        t2 = time.perf_counter()
        count = sum(n for _, _, n in tally)
        _add_tally(report, tally)
        report["records"] += count
        report["chunks"] += 1
        report["linked_applied"] += applied
        outcomes = Counter[str]()
        for outcome, _, n in tally:
            outcomes[outcome] += n
        audit.append_in_transaction(conn, audit.chunk_entry(
            plan.source.code, plan.source.sector_key, plan.job_id, (chunk.first_line, chunk.end_line),
            dict(outcomes), applied, chunk.sha256, int((t2 - t0) * 1000)))
        report["seconds"] = round(report["seconds"] + time.perf_counter() - since, 3)  # wall time over all runs
        repo.save_checkpoint(cur, plan.job_id, {"offset": chunk.end_offset, "line": chunk.end_line}, report, count)
        t3 = time.perf_counter()
    plan.phases["copy"] += t1 - t0
    plan.phases["match_link_record"] += t2 - t1
    plan.phases["ledger_checkpoint"] += t3 - t2
    plan.phases["commit"] += time.perf_counter() - t3
    return count


class _NotOneLinePerRecord(Exception):
    """A quoted field spans lines: records are not lines, so line numbers need the slow path."""


def _stage(conn: psycopg.Connection, cur: psycopg.Cursor[Any], plan: _Plan, chunk: chunks.Chunk) -> None:
    """COPY the bytes as they are; if COPY refuses them, or records span lines, parse line by line instead."""
    try:
        with conn.transaction():
            if repo.copy_fast(cur, plan.fmt, plan.width, chunk.data, chunk.first_line) != chunk.lines:
                raise _NotOneLinePerRecord
        return
    except (psycopg.DataError, _NotOneLinePerRecord):
        plan.slow_chunks += 1
    rows = (staging.jsonl_rows(chunk.data, chunk.first_line) if plan.fmt == "jsonl"
            else staging.csv_rows(chunk.data, chunk.first_line, plan.width))
    repo.copy_rows(cur, plan.fmt, plan.width, rows)


def _add_tally(report: dict[str, Any], rows: list[tuple[str, list[str], int]]) -> None:
    outcomes, reasons = Counter(report["outcomes"]), Counter(report["reasons"])
    for outcome, codes, count in rows:
        outcomes[outcome] += count
        for code in codes:
            reasons[f"{outcome}:{code}"] += count
    report["outcomes"], report["reasons"] = dict(outcomes), dict(reasons)


def _prefetched(source: Iterator[chunks.Chunk], plan: _Plan) -> Iterator[chunks.Chunk]:
    """The next chunk is read and hashed in a thread while the database stores the current one."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-read") as pool:
        pending = pool.submit(next, source, None)
        while True:
            t0 = time.perf_counter()
            chunk = pending.result()
            plan.phases["read_wait"] += time.perf_counter() - t0
            if chunk is None:
                return
            pending = pool.submit(next, source, None)
            yield chunk


def _province_table(database: Database) -> dict[str, tuple[str | None, str]]:
    """Old 63-province codes read as their 2025 province (noted ``province_old_code``), current codes as they
    are (note ''); anything else is ``province_unknown`` in SQL."""
    with database.sessions() as session:
        lookup = CatalogLookup.load(session, date.today())
    table: dict[str, tuple[str | None, str]] = {}
    for code in lookup.codes(catalog_names.PROVINCE_63) | _expired(lookup):
        table[code] = (lookup.map_code(catalog_names.PROVINCE_63_TO_34, code), "province_old_code")
    table.update({code: (code, "") for code in lookup.codes(catalog_names.PROVINCE)})
    return table


def _expired(lookup: CatalogLookup) -> set[str]:
    return {f"{n:02d}" for n in range(100) if lookup.has(catalog_names.PROVINCE_63, f"{n:02d}", include_expired=True)}


def _tune(conn: psycopg.Connection) -> None:
    """As the synth loader: the checkpoint commits with its chunk, so an OS crash losing the last commits only
    makes the rerun redo those chunks.  TEMP buffers hold a whole chunk; JIT only slows statements like ours."""
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '64MB'")
    conn.execute("SET temp_buffers = '256MB'")
    conn.execute("SET jit = off")
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
