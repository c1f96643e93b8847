"""``dancu sync index-keys``: build (or refresh) ``resident_match_key`` and the registry's name frequencies.

Residents are read in resident_id order, ``BATCH`` at a time; each batch's keys replace that batch's old keys and
the checkpoint (the last resident_id) moves in the same transaction, so a killed build resumes where it stopped
and a rerun of a finished build does nothing.  ``refresh=True`` re-keys only residents whose row changed
(``updated_at``) since the last build started — the cheap way to stay current after registry writes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

from dancu.sync.matching import repository as repo
from dancu.sync.matching.blocking import resident_keys

BATCH = 50_000
JOB_KIND = "match_keys"


@dataclass(frozen=True)
class IndexResult:
    residents: int
    keys: int
    seconds: float
    already_done: bool


def build(conn: psycopg.Connection, *, refresh: bool = False, batch: int = BATCH) -> IndexResult:
    started = time.perf_counter()
    conn.execute("SET synchronous_commit = off")
    key, since = _job_key(conn, refresh)
    row = conn.execute(
        """INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report)
           VALUES (%s, %s, %s, 'running', 0, 0, '{"after": 0}', '{}') ON CONFLICT (job_key) DO UPDATE
           SET updated_at = now() RETURNING job_id, state, checkpoint, report""",
        (key, JOB_KIND, orjson.dumps({"refresh": refresh, "since": since}).decode())).fetchone()
    conn.commit()
    assert row is not None
    job_id, state, checkpoint, report = int(row[0]), str(row[1]), dict(row[2]), dict(row[3])
    if state == "done":
        return IndexResult(0, 0, time.perf_counter() - started, True)
    after, residents, keys = int(checkpoint["after"]), 0, 0
    while True:
        with conn.transaction(), conn.cursor() as cur:
            rows = repo.residents_after(cur, after, batch, since)
            if not rows:
                break
            lines = [f"{k}\t{r[0]}\n" for r in rows
                     for k in resident_keys(r[1], (r[2], r[3], r[4]), r[5], (r[6], r[7]))]
            repo.replace_keys(cur, [r[0] for r in rows], lines)
            after, residents, keys = int(rows[-1][0]), residents + len(rows), keys + len(lines)
            cur.execute("UPDATE job SET checkpoint = %s, done = done + %s, updated_at = now() WHERE job_id = %s",
                        (orjson.dumps({"after": after}).decode(), len(rows), job_id))
    with conn.transaction(), conn.cursor() as cur:
        repo.save_model(cur, repo.TF_SOURCE, repo.name_frequencies(cur), 0)
        report = {**report, "residents": residents + int(report.get("residents", 0)),
                  "keys": keys + int(report.get("keys", 0)), "finished_at": datetime.now(UTC).isoformat()}
        cur.execute("UPDATE job SET state = 'done', report = %s, finished_at = now() WHERE job_id = %s",
                    (orjson.dumps(report).decode(), job_id))
    return IndexResult(residents, keys, time.perf_counter() - started, False)


def is_built(conn: psycopg.Connection) -> bool:
    """Whether a full build has finished (refreshes keep it current after that)."""
    row = conn.execute("SELECT 1 FROM job WHERE job_key = 'match_keys:full' AND state = 'done'").fetchone()
    conn.commit()
    return row is not None


def _job_key(conn: psycopg.Connection, refresh: bool) -> tuple[str, Any]:
    """A full build is one job for ever (``match_keys:full``); a refresh is keyed by the time it starts from:
    the start of the last finished build or refresh."""
    if not refresh:
        return "match_keys:full", None
    row = conn.execute("SELECT max(started_at) FROM job WHERE kind = %s AND state = 'done'", (JOB_KIND,)).fetchone()
    since = row[0] if row and row[0] else datetime(1900, 1, 1, tzinfo=UTC)
    return f"match_keys:refresh:{since.isoformat()}", since.isoformat()
