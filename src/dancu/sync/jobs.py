"""``dancu sync run``: the file is cut into chunks of whole records; each chunk is one transaction — COPY its
bytes into the worker's TEMP stage, link the clean records in one cheap statement, judge the rest in a second,
append the exchange-log entry, record the chunk in the checkpoint — so a crash or kill loses at most the chunks
in flight and a rerun resumes after the committed ones.

Chunks run on ``workers`` connections at once (PostgreSQL does the work; each connection is one server process,
so two workers use two cores).  They may commit out of order: ``checkpoints`` keeps the committed prefix and the
chunks done past it.  The job key is ``sync:<source>:<sha256 of the file>``: the same content gives the same job
wherever the file lies, so running a finished file again does nothing, and a changed file is a new one.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from queue import SimpleQueue
from typing import Any

import psycopg

from dancu.catalogs import names as catalog_names
from dancu.catalogs.lookup import CatalogLookup
from dancu.db import Database
from dancu.sync import audit, checkpoints, chunk_sql, chunks, staging
from dancu.sync import repository as repo
from dancu.sync.sources import Source

DEFAULT_CHUNK_SIZE = 100_000  # physical lines per transaction
DEFAULT_WORKERS = 2
LAST_YEAR = 2100  # a date of birth after it is invalid (as matching.records.Normaliser)
RETRIES = 3  # a chunk aborted by a deadlock with a parallel chunk (two lines of one resident) is redone
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
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase of this run, summed over workers
    slow_chunks: int = 0  # chunks COPY refused, parsed line by line
    fast_linked: int = 0  # lines of this run linked by the fast statement


@dataclass
class _Plan:
    """What every chunk of a run shares (workers are threads: counters under a lock)."""

    job_id: int
    source: Source
    fmt: str
    width: int
    fast_sql: str
    fast_sql_optimistic: str
    judge_sql: str
    params: dict[str, Any]
    phases: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    slow_chunks: int = 0
    fast_linked: int = 0
    optimistic: bool = True  # until a chunk meets a resident who already holds a value
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last: float = field(default_factory=time.perf_counter)

    def tick(self) -> float:
        """Wall seconds since the previous chunk of this run committed (their sum is the run's wall time)."""
        with self._lock:
            now = time.perf_counter()
            elapsed, self._last = now - self._last, now
            return elapsed

    def count(self, fast_linked: int, **seconds: float) -> None:
        with self._lock:
            self.fast_linked += fast_linked
            for name, value in seconds.items():
                self.phases[name] += value

    def slow_chunk(self) -> None:
        with self._lock:
            self.slow_chunks += 1


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def job_key(source: Source, checksum: str) -> str:
    return f"sync:{source.code}:{checksum}"


def run(database: Database, source: Source, path: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
        workers: int = DEFAULT_WORKERS, progress: bool = False, after_chunk: ChunkHook | None = None,
        chunk_delay: float = 0.0, fast_path: bool = True) -> RunResult:
    """Synchronise ``path`` from ``source`` (or resume that job); idempotent.

    ``after_chunk(k)`` runs after chunk ``k`` is committed (tests use it to simulate a crash); ``chunk_delay``
    sleeps after each commit (the SIGKILL test uses it to kill mid-file).  A resumed job keeps the chunk size
    it was created with.  ``fast_path=False`` judges every line with the full statement (tests compare both).
    """
    started = time.perf_counter()
    wanted = list(dict.fromkeys([*source.columns.values(), source.identifier_column]))
    file = chunks.open_input(path, wanted, source.columns.get("personal_id"))
    checksum = file_checksum(path)
    key = job_key(source, checksum)
    fmt, header = file.fmt, file.header
    params = {"source": source.code, "sector_key": source.sector_key, "file": str(path),
              "size": path.stat().st_size, "sha256": checksum, "format": fmt, "chunk_size": chunk_size,
              **({"records_in_file": file.extent} if fmt == "parquet" else {})}
    provinces = _province_table(database)
    with database.raw_connection() as conn:
        job_id, stored, report, state = repo.open_job(conn, key, params, file.extent)
        if state == "done":
            return RunResult(job_id, key, 0, 0, time.perf_counter() - started, report, already_done=True)
        audit.ensure_partition(conn)
        point = repo.checkpoint(conn, job_id)
        current = [code for code, (_, note) in provinces.items() if not note]
        plan = _Plan(job_id, source, fmt, len(header),
                     chunk_sql.fast_sql(source, fmt, header, current) if fast_path else "",
                     chunk_sql.fast_sql(source, fmt, header, current, skip_conflicts=False) if fast_path else "",
                     chunk_sql.judge_sql(source, fmt, header), chunk_sql.judge_params(source, job_id, LAST_YEAR))
        plan.phases["checksum"] = time.perf_counter() - started
        todo = (c for c in file.chunks(point, int(stored.get("chunk_size", chunk_size)))
                if not checkpoints.is_done(point, c.number))
        records = done_chunks = 0
        held = False
        with _progress(progress, file, int(point["offset"]), source.code) as advance, \
                _Workers(database, plan, max(1, workers), provinces) as pool:
            for chunk, stored_records in pool.run(todo):
                if stored_records is None:
                    held = True  # another run holds or did this chunk: it finishes the job
                    continue
                records, done_chunks = records + stored_records, done_chunks + 1
                advance(chunk.end_offset, records)
                if after_chunk:
                    after_chunk(chunk.number)
                if chunk_delay:
                    time.sleep(chunk_delay)
        if not held or int(repo.checkpoint(conn, job_id)["offset"]) >= file.extent:
            report = repo.finish_job(conn, job_id)
        else:
            report = repo.checkpoint_report(conn, job_id)
    return RunResult(job_id, key, records, done_chunks, time.perf_counter() - started, report,
                     phases={k: round(v, 3) for k, v in plan.phases.items()}, slow_chunks=plan.slow_chunks,
                     fast_linked=plan.fast_linked)


class _Workers:
    """``count`` connections, each with its own TEMP stage, storing chunks in parallel; at most ``count`` chunks
    are in flight, so memory holds ``count`` chunks and the one being read."""

    def __init__(self, database: Database, plan: _Plan, count: int,
                 provinces: dict[str, tuple[str | None, str]]) -> None:
        self._database, self._plan, self._count, self._provinces = database, plan, count, provinces
        self._stack = ExitStack()
        self._idle: SimpleQueue[psycopg.Connection] = SimpleQueue()

    def __enter__(self) -> _Workers:
        for _ in range(self._count):
            conn = self._stack.enter_context(self._database.raw_connection())
            _tune(conn)
            repo.create_stage(conn, self._plan.fmt, self._plan.width, self._provinces)
            self._idle.put(conn)
        self._pool = self._stack.enter_context(ThreadPoolExecutor(self._count, thread_name_prefix="sync-chunk"))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self, todo: Iterable[chunks.Chunk]) -> Iterator[tuple[chunks.Chunk, int | None]]:
        """Each chunk with the records it stored (None: another run has it), in the order they commit.  On an
        error, or if the caller stops, no new chunk starts; those in flight finish first."""
        flight: dict[Future[int | None], chunks.Chunk] = {}
        try:
            for chunk in todo:
                while len(flight) >= self._count:
                    yield from self._collect(flight)
                flight[self._pool.submit(self._store, chunk)] = chunk
            while flight:
                yield from self._collect(flight)
        finally:
            wait(flight)

    def _collect(self, flight: dict[Future[int | None], chunks.Chunk]) -> Iterator[tuple[chunks.Chunk, int | None]]:
        finished, _ = wait(flight, return_when=FIRST_COMPLETED)
        for future in finished:
            yield flight.pop(future), future.result()

    def _store(self, chunk: chunks.Chunk) -> int | None:
        conn = self._idle.get()
        try:
            for attempt in range(RETRIES):
                try:
                    return _store(conn, self._plan, chunk)
                except psycopg.errors.DeadlockDetected:
                    if attempt == RETRIES - 1:
                        raise
            return None
        finally:
            self._idle.put(conn)


def _store(conn: psycopg.Connection, plan: _Plan, chunk: chunks.Chunk) -> int | None:
    """Stage, link, judge, log and checkpoint one chunk in one transaction; its record count, None if another
    run holds or has committed it."""
    with conn.transaction(), conn.cursor() as cur:
        if not repo.claim_chunk(cur, plan.job_id, chunk.number):
            return None
        repo.probe_only(cur)
        t0 = time.perf_counter()
        _stage(conn, cur, plan, chunk)
        t1 = time.perf_counter()
        fast = _link_fast(conn, cur, plan)
        t2 = time.perf_counter()
        tally, applied = repo.judge(cur, plan.judge_sql, plan.params)
        t3 = time.perf_counter()
        if fast:
            tally.append(("linked", [], fast))
        outcomes, reasons = _tally(tally)
        count = sum(outcomes.values())
        audit.append_in_transaction(conn, audit.chunk_entry(
            plan.source.code, plan.source.sector_key, plan.job_id, (chunk.first_line, chunk.end_line),
            outcomes, applied + fast, chunk.sha256, int((t3 - t0) * 1000)))
        repo.commit_chunk(cur, plan.job_id, chunk.number, (chunk.end_offset, chunk.end_line), {
            "records": count, "chunks": 1, "linked_applied": applied + fast, "outcomes": outcomes,
            "reasons": reasons, "seconds": plan.tick()})
        t4 = time.perf_counter()
    plan.count(fast, copy=t1 - t0, link_fast=t2 - t1, judge_rest=t3 - t2, ledger_checkpoint=t4 - t3,
               commit=time.perf_counter() - t4)
    return count


def _link_fast(conn: psycopg.Connection, cur: psycopg.Cursor[Any], plan: _Plan) -> int:
    if not plan.fast_sql:
        return 0
    if plan.optimistic:
        try:
            with conn.transaction():
                return repo.link_fast(cur, plan.fast_sql_optimistic, plan.params)
        except psycopg.errors.UniqueViolation:
            plan.optimistic = False  # values exist (a re-synchronisation): skip conflicts from now on
    return repo.link_fast(cur, plan.fast_sql, plan.params)


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
        plan.slow_chunk()
    rows = (staging.jsonl_rows(chunk.data, chunk.first_line) if plan.fmt == "jsonl"
            else staging.csv_rows(chunk.data, chunk.first_line, plan.width, by_record=plan.fmt == "parquet"))
    repo.copy_rows(cur, plan.fmt, plan.width, rows)


def _tally(rows: list[tuple[str, list[str], int]]) -> tuple[dict[str, int], dict[str, int]]:
    outcomes, reasons = Counter[str](), Counter[str]()
    for outcome, codes, count in rows:
        outcomes[outcome] += count
        for code in codes:
            reasons[f"{outcome}:{code}"] += count
    return dict(outcomes), dict(reasons)


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
def _progress(enabled: bool, file: chunks.Input, completed: int,
              label: str) -> Iterator[Callable[[int, int], None]]:
    """Position in the file's own unit (the checkpoint's): bytes, or records for Parquet."""
    if not enabled:
        yield lambda _offset, _records: None
        return
    from rich import progress as rp

    position: tuple[rp.ProgressColumn, ...] = ((rp.MofNCompleteColumn(),) if file.fmt == "parquet"
                                               else (rp.DownloadColumn(), rp.TransferSpeedColumn()))
    columns = (rp.TextColumn(f"sync {label}"), rp.BarColumn(), *position,
               rp.TextColumn("{task.fields[records]:,} records"), rp.TimeRemainingColumn())
    with rp.Progress(*columns, transient=False) as bar:
        task = bar.add_task("sync", total=file.extent, completed=completed, records=0)
        yield lambda offset, records: bar.update(task, completed=offset, records=records)
