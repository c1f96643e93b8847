"""A synchronisation end to end: stage (a) by personal ID over the whole file (``jobs.run``), then stage (b),
demographic matching of what the ID did not place (``matching.stage_b``), each resumable on its own.

Stage (b) needs the blocking-key index of the registry (``dancu sync index-keys``, built once per registry); a
registry without it skips stage (b) and says so, and the job's ``unmatched_id`` records wait for ``dancu sync
match JOB``.  Before matching, the index is refreshed for residents changed since its last build or refresh
(cheap, and skipped if another process is refreshing it at that moment).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from dancu.db import Database
from dancu.sync import jobs
from dancu.sync.matching import index
from dancu.sync.matching.stage_b import run_stage_b
from dancu.sync.sources import Source

_REFRESH_LOCK = 0x64616E6375_01  # pg_try_advisory_lock key: one index refresh at a time

STAGE_B_DONE = "done"
STAGE_B_SKIPPED_NO_INDEX = "skipped: the blocking-key index is not built (dancu sync index-keys)"
STAGE_B_NOT_ASKED = "not asked"
STAGE_B_WAITING = "waiting: stage (a) of the job is not finished"


@dataclass(frozen=True)
class Synchronised:
    """What ``synchronise`` did: stage (a)'s result, stage (b)'s counts for the whole job (empty when it did not
    run) and why it did or did not."""

    stage_a: jobs.RunResult
    stage_b: dict[str, int]
    stage_b_state: str


def synchronise(database: Database, source: Source, path: Path, *, match: bool = True,
                chunk_size: int = jobs.DEFAULT_CHUNK_SIZE, workers: int = jobs.DEFAULT_WORKERS,
                progress: bool = False, chunk_delay: float = 0.0) -> Synchronised:
    """Stage (a) of ``path`` (or its resumption), then stage (b) of the job if ``match``; idempotent: a finished
    job does nothing more."""
    result = jobs.run(database, source, path, chunk_size=chunk_size, workers=workers, progress=progress,
                      chunk_delay=chunk_delay)
    if not match:
        return Synchronised(result, {}, STAGE_B_NOT_ASKED)
    with database.raw_connection() as conn:
        if not _stage_a_finished(conn, result.job_id):
            return Synchronised(result, {}, STAGE_B_WAITING)
        if not index.is_built(conn):
            return Synchronised(result, {}, STAGE_B_SKIPPED_NO_INDEX)
        _refresh_index(conn)
        counts = run_stage_b(conn, result.job_id, source=source)
    return Synchronised(result, counts, STAGE_B_DONE)


def _stage_a_finished(conn: psycopg.Connection, job_id: int) -> bool:
    row = conn.execute("SELECT state FROM job WHERE job_id = %s", (job_id,)).fetchone()
    conn.commit()
    return row is not None and row[0] == "done"


def _refresh_index(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_REFRESH_LOCK,)).fetchone()
    conn.commit()
    if not row or not row[0]:
        return  # another process is refreshing: match against the keys as they are
    try:
        index.build(conn, refresh=True)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_REFRESH_LOCK,))
        conn.commit()
