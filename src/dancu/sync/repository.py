"""Every SQL statement of sector synchronisation (the two chunk statements are built in ``chunk_sql``).

The bulk path (one chunk: COPY the raw bytes into the worker's TEMP stage, the fast link, the full judgement of
the rest, ledger entry, checkpoint) runs on a raw psycopg connection inside the chunk's transaction; the review
queue and reports use the application's SQLAlchemy session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.jobs.models import Job
from dancu.registry.models import Resident, ResidentSectorId, ResidentSectorIdHistory
from dancu.sync import checkpoints
from dancu.sync.chunk_sql import DONE, STAGE
from dancu.sync.models import SyncRecord


def create_stage(conn: psycopg.Connection, fmt: str, width: int, provinces: dict[str, tuple[str | None, str]]) -> None:
    """The worker's TEMP tables (this session only, emptied at every commit): the raw chunk, the lines the fast
    statement linked, and the province map."""
    columns = "doc jsonb" if fmt == "jsonl" else ", ".join(f"c{i} text" for i in range(width))
    conn.execute(f"DROP TABLE IF EXISTS {STAGE}, {DONE}, sync_province")
    conn.execute(f"CREATE TEMP TABLE {DONE} (line_no bigint NOT NULL) ON COMMIT DELETE ROWS")
    conn.execute("DROP SEQUENCE IF EXISTS sync_raw_ord")
    conn.execute("CREATE TEMP SEQUENCE sync_raw_ord")
    conn.execute(f"""CREATE TEMP TABLE {STAGE} (ord bigint NOT NULL DEFAULT nextval('sync_raw_ord'), problem text,
                     {columns}) ON COMMIT DELETE ROWS""")
    conn.execute("CREATE TEMP TABLE sync_province (code text PRIMARY KEY, province text, note text)")
    with conn.cursor() as cur, cur.copy("COPY sync_province (code, province, note) FROM STDIN") as copy:
        for code, (province, note) in provinces.items():
            copy.write_row((code, province, note))
    conn.execute("ANALYZE sync_province")
    conn.commit()


def copy_fast(cur: psycopg.Cursor[Any], fmt: str, width: int, data: bytes, first_line: int) -> int:
    """COPY the chunk's bytes as they are; rows copied.  Raises on a malformed chunk (caller falls back)."""
    cur.execute("SELECT setval('sync_raw_ord', %s, false)", (first_line,))
    if fmt == "jsonl":
        sql = f"COPY {STAGE} (doc) FROM STDIN (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
    else:
        sql = f"COPY {STAGE} ({', '.join(f'c{i}' for i in range(width))}) FROM STDIN (FORMAT csv)"
    with cur.copy(sql) as copy:
        view = memoryview(data)
        for start in range(0, len(data), 1 << 20):
            copy.write(view[start:start + (1 << 20)])
    return cur.rowcount


def copy_rows(cur: psycopg.Cursor[Any], fmt: str, width: int, rows: list[tuple[Any, ...]]) -> None:
    """The slow path: rows (ord, problem, values…) parsed line by line in Python."""
    columns = "doc" if fmt == "jsonl" else ", ".join(f"c{i}" for i in range(width))
    with cur.copy(f"COPY {STAGE} (ord, problem, {columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def probe_only(cur: psycopg.Cursor[Any]) -> None:
    """For this chunk's transaction: reach registry rows through their indexes, never by scanning or hashing a
    table — a chunk is 10⁵ lines, the registry 10⁸ residents.  (Without this, statistics taken while a sector
    key held no values once made every chunk scan ``resident_sector_id`` per line: 50× slower.)  The TEMP
    stage has no index, so it is still read sequentially; its "NOT IN" uses a hashed subplan."""
    cur.execute("SET LOCAL enable_seqscan = off")
    cur.execute("SET LOCAL enable_hashjoin = off")
    cur.execute("SET LOCAL enable_mergejoin = off")


def judge(cur: psycopg.Cursor[Any], sql: str, params: dict[str, Any]) -> tuple[list[tuple[str, list[str], int]], int]:
    """Run the full judgement of the lines the fast statement left: ([(outcome, reasons, count)], links applied)."""
    rows = cur.execute(sql, params).fetchall()
    return [(str(o), list(r), int(n)) for o, r, n, _, _ in rows], int(rows[0][3]) if rows else 0


def link_fast(cur: psycopg.Cursor[Any], sql: str, params: dict[str, Any]) -> int:
    """Run the fast statement; lines linked."""
    cur.execute(sql, params)
    return max(cur.rowcount, 0)


def open_job(conn: psycopg.Connection, key: str, params: dict[str, Any], total: int) -> tuple[int, dict[str, Any],
                                                                                                dict[str, Any], str]:
    """Create the job row if new; (job_id, params, report, state).  A resumed job keeps the params it was
    created with (its chunk size above all: chunk numbers must mean the same lines in every run)."""
    conn.execute(
        """INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report)
           VALUES (%s, 'sync', %s, 'running', %s, 0, '{"offset": 0, "line": 0, "chunk": 0}', '{}')
           ON CONFLICT (job_key) DO NOTHING""",
        (key, orjson.dumps(params).decode(), total),
    )
    row = conn.execute("SELECT job_id, params, report, state FROM job WHERE job_key = %s", (key,)).fetchone()
    conn.commit()
    assert row is not None
    return int(row[0]), dict(row[1]), dict(row[2]), str(row[3])


def checkpoint(conn: psycopg.Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT checkpoint FROM job WHERE job_id = %s", (job_id,)).fetchone()
    conn.commit()
    return dict(row[0]) if row else {}


def checkpoint_report(conn: psycopg.Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT report FROM job WHERE job_id = %s", (job_id,)).fetchone()
    conn.commit()
    return dict(row[0]) if row else {}


def claim_chunk(cur: psycopg.Cursor[Any], job_id: int, number: int) -> bool:
    """Whether this transaction may do chunk ``number``: no other run holds it and no run has committed it."""
    row = cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (job_id, number)).fetchone()
    if not row or not row[0]:
        return False
    done = cur.execute("SELECT checkpoint FROM job WHERE job_id = %s", (job_id,)).fetchone()
    return done is not None and not checkpoints.is_done(dict(done[0]), number)


def commit_chunk(cur: psycopg.Cursor[Any], job_id: int, number: int, end: tuple[int, int],
                 add: dict[str, Any]) -> dict[str, Any]:
    """Record chunk ``number`` (ending at byte/line ``end``) as done and add its counts to the report, under the
    job row's lock (taken last, so chunks committing in parallel wait only for each other's few milliseconds).

    See ``checkpoints`` for the checkpoint's shape.  Returns the new report."""
    row = cur.execute("SELECT checkpoint, report FROM job WHERE job_id = %s FOR UPDATE", (job_id,)).fetchone()
    assert row is not None
    point, report = checkpoints.advance(dict(row[0]), number, end), checkpoints.merge_report(dict(row[1]), add)
    cur.execute(
        "UPDATE job SET checkpoint = %s, report = %s, done = done + %s, updated_at = now() WHERE job_id = %s",
        (orjson.dumps(point).decode(), orjson.dumps(report).decode(), int(add["records"]), job_id),
    )
    return report


def finish_job(conn: psycopg.Connection, job_id: int) -> dict[str, Any]:
    """Mark the job done once every chunk is (idempotent); its final report."""
    row = conn.execute(
        """UPDATE job SET state = 'done', finished_at = now(), updated_at = now(),
                  report = report || jsonb_build_object('finished_at', now())
           WHERE job_id = %s AND state <> 'done' RETURNING report""",
        (job_id,),
    ).fetchone()
    if row is None:
        row = conn.execute("SELECT report FROM job WHERE job_id = %s", (job_id,)).fetchone()
    conn.commit()
    assert row is not None
    return dict(row[0])


# -- review queue and reports (SQLAlchemy session) ------------------------------------------------------------


def job(session: Session, job_id: int) -> Job | None:
    found = session.get(Job, job_id)
    return found if found is not None and found.kind == "sync" else None


def review_items(session: Session, *, job_id: int | None, source: str | None, reason: str | None,
                 state: str, limit: int, offset: int) -> list[tuple[SyncRecord, Job]]:
    query = select(SyncRecord, Job).join(Job, Job.job_id == SyncRecord.job_id)
    query = query.where(SyncRecord.outcome == "review", SyncRecord.review_state == state)
    if job_id is not None:
        query = query.where(SyncRecord.job_id == job_id)
    if source is not None:
        query = query.where(Job.params["source"].astext == source)
    if reason is not None:
        query = query.where(SyncRecord.reasons.contains([reason]))
    rows = session.execute(query.order_by(SyncRecord.job_id, SyncRecord.line_no).limit(limit).offset(offset))
    return [(record, job_row) for record, job_row in rows]


def set_sector_id(session: Session, resident_id: int, key: str, value: str, *, source: str, job_id: int,
                  line_no: int, actor: str, reason: str, at: datetime) -> bool:
    """Give the resident ``value`` for ``key``; a different current value goes to the history.  False if it
    already held that value."""
    current = session.get(ResidentSectorId, (resident_id, key), with_for_update=True)
    if current is not None and current.value == value:
        return False
    if current is not None:
        session.add(ResidentSectorIdHistory(
            resident_id=resident_id, sector_key=key, value=current.value, source=current.source,
            job_id=current.job_id, line_no=current.line_no, linked_at=current.linked_at, replaced_at=at,
            replaced_by=actor, reason=reason))
        current.value, current.source, current.job_id, current.line_no, current.linked_at = (
            value, source, job_id, line_no, at)
    else:
        session.add(ResidentSectorId(resident_id=resident_id, sector_key=key, value=value, source=source,
                                     job_id=job_id, line_no=line_no, linked_at=at))
    session.flush()
    return True


def review_item(session: Session, job_id: int, line_no: int, *, lock: bool = False) -> SyncRecord | None:
    return session.get(SyncRecord, (job_id, line_no), with_for_update=lock)


def personal_ids(session: Session, resident_ids: list[int]) -> dict[int, str]:
    """The personal ID each of ``resident_ids`` holds now (residents no longer there are left out)."""
    if not resident_ids:
        return {}
    rows = session.execute(select(Resident.resident_id, Resident.personal_id)
                           .where(Resident.resident_id.in_(resident_ids)))
    return {int(rid): str(pid) for rid, pid in rows}
