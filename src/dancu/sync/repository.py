"""Every SQL statement of sector synchronisation.

The bulk path (one chunk: stage, match, apply, count, checkpoint) runs on a raw psycopg connection inside the
job's transaction; the review queue and reports use the application's SQLAlchemy session.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.db.bulk import copy_text
from dancu.jobs.models import Job
from dancu.sync.models import SyncRecord
from dancu.sync.staging import STAGE_COLUMNS

# Stage (a): join the chunk to the registry by personal ID and judge each record.  Name: equal when folded,
# a variant when the loose keys agree; date of birth: same, partial (one side lacks month/day), swapped
# (day and month) or different; the sector value: new, the same, or in conflict with the resident's.
MATCH = """
WITH joined AS (
    SELECT s.line_no, s.personal_id, s.full_name, s.name_folded, s.dob_year, s.dob_month, s.dob_day, s.sex,
           s.province, s.sector_value, s.problems, s.notes, r.resident_id, r.death_kind,
           r.name_folded AS resident_name, r.sector_ids ->> %(key)s AS existing,
           CASE WHEN r.resident_id IS NULL THEN NULL
                WHEN r.name_folded = s.name_folded THEN 'same'
                WHEN sync_name_loose(r.name_folded) = s.name_loose THEN 'variant'
                ELSE 'different' END AS name,
           CASE WHEN r.resident_id IS NULL THEN NULL
                WHEN r.dob_year <> s.dob_year THEN 'different'
                WHEN r.dob_month IS NOT DISTINCT FROM s.dob_month
                     AND r.dob_day IS NOT DISTINCT FROM s.dob_day THEN 'same'
                WHEN s.dob_month IS NULL OR r.dob_month IS NULL THEN 'partial'
                WHEN s.dob_month = r.dob_month AND (s.dob_day IS NULL OR r.dob_day IS NULL) THEN 'partial'
                WHEN s.dob_month = r.dob_day AND s.dob_day = r.dob_month THEN 'swapped'
                ELSE 'different' END AS dob,
           CASE WHEN r.resident_id IS NULL THEN NULL WHEN s.sex IS NULL THEN 'unknown'
                WHEN s.sex = r.sex THEN 'same' ELSE 'different' END AS sex_agreement,
           first_value(s.sector_value) OVER same_resident AS first_value,
           row_number() OVER same_resident AS nth
    FROM sync_stage s
    LEFT JOIN resident r ON s.problems IS NULL AND r.personal_id = s.personal_id
    WHERE s.job_id = %(job)s
    WINDOW same_resident AS (PARTITION BY r.resident_id ORDER BY s.line_no)
), judged AS (
    SELECT j.*, array_remove(ARRAY[
               CASE WHEN name = 'different' THEN 'name_mismatch' END,
               CASE WHEN dob = 'different' THEN 'dob_mismatch' END,
               CASE WHEN sex_agreement = 'different' THEN 'sex_mismatch' END,
               CASE WHEN death_kind IS NOT NULL THEN 'resident_deceased' END,
               CASE WHEN existing IS NOT NULL AND existing <> sector_value THEN 'sector_id_conflict' END,
               CASE WHEN resident_id IS NOT NULL AND existing IS NULL AND nth > 1 AND first_value <> sector_value
                    THEN 'duplicate_in_file' END
           ], NULL) AS conflicts,
           CASE WHEN problems IS NOT NULL THEN 'rejected' WHEN resident_id IS NULL THEN 'unmatched_id' END AS early
    FROM joined j
), decided AS (
    SELECT judged.*, coalesce(early, CASE WHEN cardinality(conflicts) > 0 THEN 'review' ELSE 'linked' END)
                     AS outcome
    FROM judged
)
INSERT INTO sync_record (job_id, line_no, outcome, resident_id, reasons, sector_value, detail, review_state)
SELECT %(job)s, line_no, outcome, resident_id,
       CASE outcome WHEN 'rejected' THEN problems
                    WHEN 'unmatched_id' THEN coalesce(notes, '{}')
                         || CASE WHEN personal_id IS NULL THEN '{}'::text[] ELSE '{id_not_found}' END
                    ELSE conflicts || coalesce(notes, '{}') END,
       sector_value,
       CASE WHEN outcome = 'linked'
            THEN jsonb_build_object('name', name, 'dob', dob, 'sex', sex_agreement,
                                    'sector', CASE WHEN existing IS NULL AND nth = 1 THEN 'new' ELSE 'same' END)
            ELSE jsonb_strip_nulls(jsonb_build_object(
                'name', name, 'dob', dob, 'sex', sex_agreement, 'existing', existing,
                'name_similarity', CASE WHEN name = 'different'
                                        THEN round(similarity(resident_name, name_folded)::numeric, 3) END,
                'record', jsonb_strip_nulls(jsonb_build_object(
                    'personal_id', personal_id, 'full_name', full_name, 'sex', sex, 'province', province,
                    'date_of_birth', concat_ws('-', lpad(dob_year::text, 4, '0'), lpad(dob_month::text, 2, '0'),
                                               lpad(dob_day::text, 2, '0'))))))
       END,
       CASE WHEN outcome = 'review' THEN 'open' END
FROM decided
"""

# Apply: set the sector identifier on each newly linked resident (first line wins within the chunk), bump the
# version, stamp provenance, and write the history row — {"sector_ids": [old, new]} like any registry diff,
# so the registry's as-of reading undoes it.  A resident who already holds a value is never touched here.
APPLY = """
WITH todo AS (
    SELECT DISTINCT ON (resident_id) resident_id, sector_value
    FROM sync_record
    WHERE job_id = %(job)s AND line_no BETWEEN %(first)s AND %(last)s AND outcome = 'linked'
      AND detail ->> 'sector' = 'new'
    ORDER BY resident_id, line_no
), changed AS (
    UPDATE resident r
    SET sector_ids = coalesce(r.sector_ids, '{}') || jsonb_build_object(%(key)s::text, t.sector_value),
        provenance = coalesce(r.provenance, '{}') || jsonb_build_object('sector_ids', %(stamp)s::jsonb,
                                                                        %(field)s::text, %(stamp)s::jsonb),
        version = r.version + 1,
        updated_at = %(at)s
    FROM todo t
    WHERE r.resident_id = t.resident_id AND NOT (coalesce(r.sector_ids, '{}') ? %(key)s::text)
    RETURNING r.resident_id, r.version, r.sector_ids
)
INSERT INTO resident_change (resident_id, version, recorded_at, kind, actor, source, reason, changes)
SELECT resident_id, version, %(at)s, 'synchronised', %(actor)s, %(source)s, %(reason)s,
       jsonb_build_object('sector_ids', jsonb_build_array(sector_ids - %(key)s::text, sector_ids))
FROM changed
"""


def open_job(conn: psycopg.Connection, key: str, params: dict[str, Any], total: int) -> tuple[int, dict[str, Any],
                                                                                                dict[str, Any], str]:
    """Create the job row if new; (job_id, checkpoint, report, state)."""
    conn.execute(
        """INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report)
           VALUES (%s, 'sync', %s, 'running', %s, 0, '{"offset": 0, "line": 0}', '{}')
           ON CONFLICT (job_key) DO NOTHING""",
        (key, orjson.dumps(params).decode(), total),
    )
    row = conn.execute("SELECT job_id, checkpoint, report, state FROM job WHERE job_key = %s", (key,)).fetchone()
    conn.commit()
    assert row is not None
    return int(row[0]), row[1], row[2], str(row[3])


def lock_checkpoint(cur: psycopg.Cursor[Any], job_id: int) -> dict[str, Any] | None:
    row = cur.execute("SELECT checkpoint FROM job WHERE job_id = %s FOR UPDATE", (job_id,)).fetchone()
    return dict(row[0]) if row else None


def copy_stage(cur: psycopg.Cursor[Any], lines: Iterable[str]) -> None:
    copy_text(cur, "sync_stage", STAGE_COLUMNS, lines)


def match(cur: psycopg.Cursor[Any], job_id: int, sector_key: str) -> None:
    cur.execute(MATCH, {"job": job_id, "key": sector_key})


def apply_links(cur: psycopg.Cursor[Any], job_id: int, lines: tuple[int, int], sector_key: str, *, actor: str,
                source: str, reason: str, at: datetime) -> int:
    stamp = orjson.dumps({"source": source, "updated_at": at.isoformat()}).decode()
    cur.execute(APPLY, {"job": job_id, "first": lines[0], "last": lines[1], "key": sector_key, "stamp": stamp,
                        "field": f"sector_ids.{sector_key}", "at": at, "actor": actor, "source": source,
                        "reason": reason})
    return cur.rowcount


def tally(cur: psycopg.Cursor[Any], job_id: int, lines: tuple[int, int]) -> list[tuple[str, list[str], int]]:
    """(outcome, reasons, count) for the records of a line range."""
    rows = cur.execute(
        """SELECT outcome, reasons, count(*) FROM sync_record
           WHERE job_id = %s AND line_no BETWEEN %s AND %s GROUP BY 1, 2""",
        (job_id, lines[0], lines[1]),
    ).fetchall()
    return [(str(o), list(r), int(n)) for o, r, n in rows]


def clear_stage(cur: psycopg.Cursor[Any], job_id: int) -> None:
    cur.execute("DELETE FROM sync_stage WHERE job_id = %s", (job_id,))


def save_checkpoint(cur: psycopg.Cursor[Any], job_id: int, checkpoint: dict[str, Any], report: dict[str, Any],
                    records: int) -> None:
    cur.execute(
        "UPDATE job SET checkpoint = %s, report = %s, done = done + %s, updated_at = now() WHERE job_id = %s",
        (orjson.dumps(checkpoint).decode(), orjson.dumps(report).decode(), records, job_id),
    )


def finish_job(conn: psycopg.Connection, job_id: int, report: dict[str, Any]) -> None:
    conn.execute(
        """UPDATE job SET state = 'done', report = %s, finished_at = now(), updated_at = now()
           WHERE job_id = %s AND state <> 'done'""",
        (orjson.dumps(report).decode(), job_id),
    )
    conn.commit()


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


def review_item(session: Session, job_id: int, line_no: int, *, lock: bool = False) -> SyncRecord | None:
    return session.get(SyncRecord, (job_id, line_no), with_for_update=lock)
