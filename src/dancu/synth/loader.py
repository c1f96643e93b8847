"""Load a synthetic population with COPY, one transaction per chunk, resumable through the ``job`` table.

Each chunk's transaction takes the job row's lock, draws resident and household ids from their sequences,
reserves personal ID numbers in ``personal_id_sequence`` (the registry's counters, so later issues never
collide), copies ``household``, ``resident``, ``resident_change`` and ``personal_id_number`` and moves the
job's checkpoint — all or nothing.  A crash loses at most the chunk in flight; a rerun regenerates the
remaining chunks (generation is deterministic per chunk) and an already finished job loads nothing.

A :class:`Variant` loads the same people for another purpose — the exchange's sandbox of test residents
(``dancu.agencies.sandbox``): its own job keys and kind, its own provenance, fields blanked, and a hook
that marks the chunk's residents inside the chunk's own transaction.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import psycopg

from dancu.config import get_settings
from dancu.db import Database
from dancu.db.bulk import copy_text
from dancu.synth import rows
from dancu.synth.ids import issue_numbers
from dancu.synth.population import Chunk, Person, chunk_sizes, generate_chunk

DEFAULT_CHUNK_SIZE = 10_000
ChunkHook = Callable[[int], None]
MarkHook = Callable[[psycopg.Cursor, str, list[int]], None]  # (cursor, job key, the chunk's resident ids)


@dataclass(frozen=True)
class Variant:
    """What sets one kind of synthetic load apart: job key prefix and kind, provenance source, the change
    history's actor and reason (no tab, newline or backslash: they go into COPY text as they are), what is
    blanked on each person before storing, and a hook run in the chunk's transaction."""

    prefix: str = "synth"
    kind: str = "synth"
    source: Callable[[int], str] = rows.source_of
    actor: str = "synth"
    reason: str = rows.REASON
    scrub: Callable[[Person], None] | None = None
    mark: MarkHook | None = None
    params: dict[str, object] | None = None  # added to the job's params (who asked, why)


REGISTRY = Variant()


@dataclass(frozen=True)
class LoadResult:
    job_key: str
    residents: int  # residents loaded by this run
    chunks: int  # chunks loaded by this run
    chunks_total: int
    seconds: float
    already_done: bool = False


@dataclass(frozen=True)
class _Job:
    chunk_size: int
    chunks_done: int
    created_at: datetime
    done: bool


def job_key(residents: int, seed: int, variant: Variant = REGISTRY) -> str:
    return f"{variant.prefix}:{seed}:{residents}"


def ensure_population(database: Database, residents: int, seed: int) -> None:
    """Load the population when the registry is empty, or finish this job if it was interrupted."""
    with database.raw_connection(autocommit=True) as conn:
        job = conn.execute("SELECT state FROM job WHERE job_key = %s", (job_key(residents, seed),)).fetchone()
        occupied = conn.execute("SELECT EXISTS (SELECT 1 FROM resident)").fetchone()
    if (job is None and occupied and occupied[0]) or (job is not None and job[0] == "done"):
        return
    load_population(database, residents, seed, progress=sys.stderr.isatty())


def load_population(database: Database, residents: int, seed: int, progress: bool = True,
                    chunk_size: int = DEFAULT_CHUNK_SIZE, after_chunk: ChunkHook | None = None,
                    variant: Variant = REGISTRY) -> LoadResult:
    """Load (or resume loading) ``residents`` synthetic residents for ``seed``; idempotent.

    ``after_chunk(k)`` runs after chunk ``k`` is committed (progress reporting, or a test's simulated crash).
    """
    started = time.perf_counter()
    key = job_key(residents, seed, variant)
    key_bytes = get_settings().id_number_key.encode()
    with database.raw_connection() as conn:
        _tune_session(conn)
        job = _open_job(conn, key, residents, seed, chunk_size, variant)
        sizes = chunk_sizes(residents, job.chunk_size)
        if job.done:
            return LoadResult(key, 0, 0, len(sizes), time.perf_counter() - started, already_done=True)
        loaded = chunks = 0
        with _progress_bar(progress, residents, sum(sizes[: job.chunks_done])) as advance:
            for chunk in _generated(seed, sizes, job.chunks_done, job.chunk_size):
                number = chunk.number
                if _store_chunk(conn, key, chunk, job.created_at, key_bytes, variant):
                    loaded, chunks = loaded + sizes[number], chunks + 1
                advance(sizes[number])
                if after_chunk:
                    after_chunk(number)
        _finish_job(conn, key, len(sizes))
    return LoadResult(key, loaded, chunks, len(sizes), time.perf_counter() - started)


def _generated(seed: int, sizes: list[int], start: int, chunk_size: int) -> Iterator[Chunk]:
    """Chunks ``start..``, each generated in a thread while the previous one is being stored.

    The thread runs while the loader waits on the server (psycopg releases the GIL), so generation
    mostly hides behind COPY.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-gen") as pool:
        pending = pool.submit(generate_chunk, seed, start, sizes[start], chunk_size) if start < len(sizes) else None
        for number in range(start, len(sizes)):
            assert pending is not None
            chunk = pending.result()
            following = number + 1
            pending = (pool.submit(generate_chunk, seed, following, sizes[following], chunk_size)
                       if following < len(sizes) else None)
            yield chunk


def _tune_session(conn: psycopg.Connection) -> None:
    """Session settings for bulk load; none weakens atomicity (the checkpoint commits with its chunk).

    ``synchronous_commit = off`` may lose the last chunks on an OS crash, together with their checkpoint,
    so a rerun simply loads them again.  A larger ``work_mem`` lets GIN merge its pending list in one pass.
    """
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '64MB'")
    conn.commit()


def _open_job(conn: psycopg.Connection, key: str, residents: int, seed: int, chunk_size: int,
              variant: Variant) -> _Job:
    params = {**(variant.params or {}), "residents": residents, "seed": seed, "chunk_size": chunk_size,
              "created_at": datetime.now(UTC).isoformat()}
    conn.execute(
        """INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report)
           VALUES (%s, %s, %s, 'running', %s, 0, '{"chunks_done": 0}', '{}')
           ON CONFLICT (job_key) DO NOTHING""",
        (key, variant.kind, orjson.dumps(params).decode(), residents),
    )
    conn.commit()
    row = conn.execute("SELECT params, checkpoint, state FROM job WHERE job_key = %s", (key,)).fetchone()
    conn.commit()
    assert row is not None
    stored, checkpoint, state = row
    return _Job(int(stored["chunk_size"]), int(checkpoint.get("chunks_done", 0)),
                datetime.fromisoformat(stored["created_at"]), state == "done")


def _store_chunk(conn: psycopg.Connection, key: str, chunk: Chunk, created_at: datetime, id_key: bytes,
                 variant: Variant = REGISTRY) -> bool:
    """Store one chunk and move the checkpoint in one transaction; False if another run already stored it."""
    with conn.transaction(), conn.cursor() as cur:
        checkpoint = cur.execute("SELECT checkpoint FROM job WHERE job_key = %s FOR UPDATE", (key,)).fetchone()
        if checkpoint is None or int(checkpoint[0].get("chunks_done", 0)) != chunk.number:
            return False
        people = [person for _, person in chunk.people()]
        if variant.scrub is not None:
            for person in people:
                variant.scrub(person)
        ids = rows.Ids(
            households=_next_values(cur, "household_id_seq", len(chunk.households)),
            residents=_next_values(cur, "resident_id_seq", len(people)),
            personal_ids=issue_numbers(cur, people, id_key),
        )
        source = variant.source(chunk.seed)
        copy_text(cur, "household", rows.HOUSEHOLD_COLUMNS, [rows.household_text(chunk, ids, created_at)])
        copy_text(cur, "resident", rows.RESIDENT_COLUMNS, rows.resident_text(chunk, ids, created_at, source))
        copy_text(cur, "resident_change", rows.CHANGE_COLUMNS,
                  [rows.change_text(chunk.seed, ids, created_at, source, variant.actor, variant.reason)])
        copy_text(cur, "personal_id_number", rows.NUMBER_COLUMNS, [rows.number_text(ids, created_at)])
        if variant.mark is not None:
            variant.mark(cur, key, ids.residents)
        cur.execute(
            """UPDATE job SET checkpoint = %s, done = done + %s, updated_at = now() WHERE job_key = %s""",
            (orjson.dumps({"chunks_done": chunk.number + 1}).decode(), len(people), key),
        )
    return True


def _next_values(cur: psycopg.Cursor, sequence: str, count: int) -> list[int]:
    cur.execute(f"SELECT nextval('{sequence}') FROM generate_series(1, %s)", (count,))
    return [row[0] for row in cur.fetchall()]


def _finish_job(conn: psycopg.Connection, key: str, chunks: int) -> None:
    conn.execute(
        """UPDATE job SET state = 'done', finished_at = now(), updated_at = now(), report = %s
           WHERE job_key = %s AND state <> 'done'""",
        (orjson.dumps({"chunks": chunks}).decode(), key),
    )
    conn.commit()


@contextmanager
def _progress_bar(enabled: bool, total: int, completed: int) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("synthetic residents"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("load", total=total, completed=completed)
        yield lambda n: bar.advance(task, n)
