"""Every SQL statement of enrichment pushes (async psycopg, on the exchange's autocommit pool)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

_JOB = ("SELECT j.job_id, j.state, j.report, j.params ->> 'sha256', p.source, p.records FROM sync_push p "
        "JOIN job j ON j.job_key = p.job_key AND j.kind = 'sync' WHERE p.system_id = %s AND ")


@dataclass(frozen=True)
class PushedJob:
    job_id: int
    state: str
    report: dict[str, Any]
    sha256: str
    source: str
    records: int


async def record_push(conn: psycopg.AsyncConnection, job_key: str, system_id: int, source: str,
                      records: int) -> None:
    """One statement (its own transaction): the push is on record before its batch is run."""
    await conn.execute(
        "INSERT INTO sync_push (job_key, system_id, source, records) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (job_key, system_id) DO UPDATE SET pushes = sync_push.pushes + 1, last_pushed_at = now()",
        (job_key, system_id, source, records))


async def pushed_job(conn: psycopg.AsyncConnection, system_id: int, *, job_id: int | None = None,
                     job_key: str | None = None) -> PushedJob | None:
    """The job of a batch ``system_id`` pushed, by id or key; ``None`` for any other system's job."""
    where, value = ("j.job_id = %s", job_id) if job_id is not None else ("j.job_key = %s", job_key)
    row = await (await conn.execute(_JOB + where, (system_id, value))).fetchone()
    return PushedJob(int(row[0]), str(row[1]), dict(row[2] or {}), str(row[3]), str(row[4]), int(row[5])) \
        if row else None


async def rejected_lines(conn: psycopg.AsyncConnection, job_id: int) -> list[tuple[int, list[str]]]:
    cur = await conn.execute("SELECT line_no, reasons FROM sync_record WHERE job_id = %s AND outcome = 'rejected' "
                             "ORDER BY line_no", (job_id,))
    return [(int(line), list(reasons)) for line, reasons in await cur.fetchall()]
