"""Every SQL statement of sector synchronisation.

The bulk path (one chunk: COPY the raw bytes into the job's TEMP stage, normalise + match + link + record in one
statement, count, ledger entry, checkpoint) runs on a raw psycopg connection inside the job's transaction; the
review queue and reports use the application's SQLAlchemy session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.jobs.models import Job
from dancu.registry.id_number import FIRST_CENTURY
from dancu.registry.models import ResidentSectorId, ResidentSectorIdHistory
from dancu.sync.models import SyncRecord
from dancu.sync.sources import Source

STAGE = "sync_raw"
_ISO = r"^([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?$"
_DMY = r"^(?:(?:([0-9]{1,2})[/.-])?([0-9]{1,2})[/.-])?([0-9]{4})$"
_SEX_MALE = "('1', 'nam', 'm', 'male')"
_SEX_FEMALE = "('2', 'nu', 'nữ', 'f', 'female')"


def _fields(source: Source, fmt: str, header: list[str]) -> dict[str, str]:
    """SQL expression of each mapped field's raw text in the stage (NULL when the file lacks the column)."""
    wanted = {**source.columns, "sector_value": source.identifier_column}
    out: dict[str, str] = {}
    for field in ("personal_id", "full_name", "date_of_birth", "sex", "province", "commune", "sector_value"):
        column = wanted.get(field)
        if column is None:
            out[field] = "NULL::text"
        elif fmt == "jsonl":
            key = column.replace("'", "''")
            out[field] = (f"CASE WHEN jsonb_typeof(doc -> '{key}') IN ('object', 'array') THEN NULL "
                          f"ELSE doc ->> '{key}' END")
        else:
            out[field] = f"c{header.index(column)}" if column in header else "NULL::text"
    return out


def judge_sql(source: Source, fmt: str, header: list[str]) -> str:
    """The chunk statement: normalise (SQL twins of ``matching.records``), join by personal ID, judge, insert the
    new links into ``resident_sector_id`` and every other record into ``sync_record``, and count per outcome.

    ``OFFSET 0`` fences keep each normalised value computed once per row (a flattened subquery would copy the
    expression into every use).  The name is folded only where the exact name differs, and for the records
    written to ``sync_record``: folding (a long ``translate``) is the dearest expression here."""
    f = _fields(source, fmt, header)
    not_object = "CASE WHEN jsonb_typeof(doc) <> 'object' THEN 'not_an_object' END" if fmt == "jsonl" else "NULL"
    skip = "WHERE doc IS NOT NULL OR problem IS NOT NULL" if fmt == "jsonl" else ""
    return f"""
WITH raw AS (
    SELECT ord AS line_no, coalesce(problem, {not_object}) AS problem,
           nullif(btrim({f['personal_id']}), '') AS pid_text, sync_clean({f['full_name']}) AS full_name,
           nullif(btrim({f['date_of_birth']}), '') AS dob_text, lower(btrim({f['sex']})) AS sex_text,
           nullif(btrim({f['province']}), '') AS province_text, nullif(btrim({f['commune']}), '') AS commune,
           nullif(btrim({f['sector_value']}), '') AS sector_value
    FROM {STAGE} {skip} OFFSET 0
), parsed AS (
    SELECT raw.*, nullif(full_name, '') AS name,
           regexp_match(dob_text, '{_ISO}') AS iso, regexp_match(dob_text, '{_DMY}') AS dmy,
           regexp_replace(pid_text, '[\\s.\\-]', '', 'g') AS pid_digits,
           CASE WHEN sex_text IN {_SEX_MALE} THEN '1' WHEN sex_text IN {_SEX_FEMALE} THEN '2' END AS sex,
           CASE WHEN province_text ~ '^[0-9]$' THEN '0' || province_text ELSE province_text END AS province_code
    FROM raw OFFSET 0
), dated AS (
    SELECT parsed.*, coalesce(iso[1], dmy[3])::int AS y,
           (CASE WHEN iso IS NOT NULL THEN iso[2] ELSE dmy[2] END)::int AS m0,
           (CASE WHEN iso IS NOT NULL THEN iso[3] ELSE dmy[1] END)::int AS d0
    FROM parsed OFFSET 0
), swapped AS (
    SELECT dated.*, (m0 > 12 AND d0 <= 12) AS dm_swapped,
           CASE WHEN m0 > 12 AND d0 <= 12 THEN d0 ELSE m0 END AS m,
           CASE WHEN m0 > 12 AND d0 <= 12 THEN m0 ELSE d0 END AS d
    FROM dated OFFSET 0
), normal AS (
    SELECT s.line_no, s.problem, s.name AS full_name,
           s.sex, s.sex_text, s.commune, s.sector_value, s.dm_swapped AND dob_ok AS dm_swapped,
           CASE WHEN dob_ok THEN s.y END AS dob_year, CASE WHEN dob_ok THEN s.m END AS dob_month,
           CASE WHEN dob_ok THEN s.d END AS dob_day, s.dob_text IS NULL AS dob_missing,
           CASE WHEN s.pid_digits ~ '^[0-9]{{12}}$' THEN s.pid_digits END AS personal_id,
           CASE WHEN coalesce(s.pid_digits, '') = '' THEN 'id_missing'
                WHEN s.pid_digits !~ '^[0-9]{{12}}$' THEN 'id_malformed' END AS id_note,
           p.province, CASE WHEN s.province_code IS NULL THEN NULL
                            WHEN p.code IS NULL THEN 'province_unknown' ELSE nullif(p.note, '') END AS province_note
    FROM (SELECT swapped.*, y BETWEEN {FIRST_CENTURY} AND %(current_year)s
                 AND (m IS NULL OR m BETWEEN 1 AND 12)
                 AND (d IS NULL OR (m BETWEEN 1 AND 12 AND d BETWEEN 1 AND sync_days_in_month(y, m))) AS dob_ok
          FROM swapped OFFSET 0) s
    LEFT JOIN sync_province p ON p.code = s.province_code
), checked AS (
    SELECT n.*, CASE WHEN n.problem IS NOT NULL THEN ARRAY[n.problem] ELSE array_remove(ARRAY[
               CASE WHEN n.full_name IS NULL THEN 'name_missing' END,
               CASE WHEN n.dob_missing THEN 'date_of_birth_missing'
                    WHEN n.dob_year IS NULL THEN 'date_of_birth_invalid' END,
               CASE WHEN n.sector_value IS NULL THEN 'identifier_missing'
                    WHEN n.sector_value !~ %(pattern)s THEN 'identifier_malformed' END], NULL) END AS problems,
           array_remove(ARRAY[
               CASE WHEN n.dm_swapped THEN 'dob_day_month_swapped' END,
               CASE WHEN coalesce(n.sex_text, '') <> '' AND n.sex IS NULL THEN 'sex_unknown' END,
               n.id_note,
               CASE WHEN n.personal_id IS NOT NULL AND n.dob_year IS NOT NULL AND n.dob_year <>
                         {FIRST_CENTURY} + 100 * (substr(n.personal_id, 4, 1)::int / 2)
                         + substr(n.personal_id, 5, 2)::int THEN 'id_encodes_other_birth_year' END,
               CASE WHEN n.personal_id IS NOT NULL AND n.sex IS NOT NULL AND n.sex <>
                         CASE WHEN substr(n.personal_id, 4, 1)::int %% 2 = 1 THEN '2' ELSE '1' END
                    THEN 'id_encodes_other_sex' END,
               n.province_note], NULL) AS notes
    FROM normal n
), joined AS (
    SELECT c.*, r.resident_id, r.death_kind, r.name_folded AS resident_name, e.value AS existing,
           CASE WHEN r.resident_id IS NULL THEN NULL
                WHEN r.full_name = c.full_name OR r.name_folded = sync_unaccent(c.full_name) THEN 'same'
                WHEN sync_name_loose(r.name_folded) = sync_name_loose(sync_unaccent(c.full_name)) THEN 'variant'
                ELSE 'different' END AS name,
           CASE WHEN r.resident_id IS NULL THEN NULL
                WHEN r.dob_year <> c.dob_year THEN 'different'
                WHEN r.dob_month IS NOT DISTINCT FROM c.dob_month
                     AND r.dob_day IS NOT DISTINCT FROM c.dob_day THEN 'same'
                WHEN c.dob_month IS NULL OR r.dob_month IS NULL THEN 'partial'
                WHEN c.dob_month = r.dob_month AND (c.dob_day IS NULL OR r.dob_day IS NULL) THEN 'partial'
                WHEN c.dob_month = r.dob_day AND c.dob_day = r.dob_month THEN 'swapped'
                ELSE 'different' END AS dob,
           CASE WHEN r.resident_id IS NULL THEN NULL WHEN c.sex IS NULL THEN 'unknown'
                WHEN c.sex = r.sex THEN 'same' ELSE 'different' END AS sex_agreement,
           first_value(c.sector_value) OVER same_resident AS first_value,
           row_number() OVER same_resident AS nth
    FROM checked c
    LEFT JOIN resident r ON cardinality(c.problems) = 0 AND r.personal_id = c.personal_id
    LEFT JOIN resident_sector_id e ON e.resident_id = r.resident_id AND e.sector_key = %(key)s
    WINDOW same_resident AS (PARTITION BY r.resident_id ORDER BY c.line_no)
), decided AS MATERIALIZED (
    SELECT j.*, CASE WHEN cardinality(problems) > 0 THEN 'rejected' WHEN resident_id IS NULL THEN 'unmatched_id'
                     WHEN cardinality(conflicts) > 0 THEN 'review' ELSE 'linked' END AS outcome
    FROM (SELECT joined.*, array_remove(ARRAY[
               CASE WHEN name = 'different' THEN 'name_mismatch' END,
               CASE WHEN dob = 'different' THEN 'dob_mismatch' END,
               CASE WHEN sex_agreement = 'different' THEN 'sex_mismatch' END,
               CASE WHEN death_kind IS NOT NULL THEN 'resident_deceased' END,
               CASE WHEN existing IS NOT NULL AND existing <> sector_value THEN 'sector_id_conflict' END,
               CASE WHEN resident_id IS NOT NULL AND existing IS NULL AND nth > 1 AND first_value <> sector_value
                    THEN 'duplicate_in_file' END], NULL) AS conflicts
          FROM joined) j
), linked AS (
    INSERT INTO resident_sector_id (resident_id, sector_key, value, source, job_id, line_no, linked_at)
    SELECT resident_id, %(key)s, sector_value, %(source)s, %(job)s, line_no, now()
    FROM decided WHERE outcome = 'linked' AND existing IS NULL AND nth = 1
    RETURNING 1
), recorded AS (
    INSERT INTO sync_record (job_id, line_no, outcome, resident_id, reasons, sector_value, detail, review_state)
    SELECT %(job)s, line_no, outcome, resident_id,
           CASE outcome WHEN 'rejected' THEN problems
                        WHEN 'unmatched_id' THEN notes
                             || CASE WHEN personal_id IS NULL THEN '{{}}'::text[] ELSE '{{id_not_found}}' END
                        ELSE conflicts || notes END,
           sector_value,
           jsonb_strip_nulls(jsonb_build_object(
               'name', name, 'dob', dob, 'sex', sex_agreement, 'existing', existing,
               'name_similarity', CASE WHEN name = 'different'
                                       THEN round(similarity(resident_name, name_folded)::numeric, 3) END))
           || jsonb_build_object('record', jsonb_build_object(
               'personal_id', personal_id, 'full_name', full_name, 'name_folded', name_folded,
               'name_loose', CASE WHEN name_folded IS NOT NULL THEN sync_name_loose(name_folded) END,
               'date_of_birth', CASE WHEN dob_year IS NOT NULL THEN concat_ws('-', lpad(dob_year::text, 4, '0'),
                                     lpad(dob_month::text, 2, '0'), lpad(dob_day::text, 2, '0')) END,
               'dob_year', dob_year, 'dob_month', dob_month, 'dob_day', dob_day, 'sex', sex,
               'province', province, 'commune', commune, 'sector_value', sector_value)),
           CASE WHEN outcome = 'review' THEN 'open' END
    FROM (SELECT decided.*, sync_unaccent(full_name) AS name_folded FROM decided
          WHERE outcome <> 'linked' OFFSET 0) d
    RETURNING 1
)
SELECT outcome, CASE outcome WHEN 'rejected' THEN problems
                             WHEN 'unmatched_id' THEN notes
                                  || CASE WHEN personal_id IS NULL THEN '{{}}'::text[] ELSE '{{id_not_found}}' END
                             WHEN 'linked' THEN notes ELSE conflicts || notes END AS reasons,
       count(*), (SELECT count(*) FROM linked), (SELECT count(*) FROM recorded)
FROM decided GROUP BY 1, 2
"""


def judge_params(source: Source, job_id: int, current_year: int) -> dict[str, Any]:
    pattern = source.identifier_pattern
    return {"key": source.sector_key, "source": f"sync:{source.code}:{job_id}", "job": job_id,
            "current_year": current_year, "pattern": pattern if pattern.startswith("^") else f"^(?:{pattern})"}


def judge(cur: psycopg.Cursor[Any], sql: str, params: dict[str, Any]) -> tuple[list[tuple[str, list[str], int]], int]:
    """Run the chunk statement: ([(outcome, reasons, count)], links applied)."""
    rows = cur.execute(sql, params).fetchall()
    return [(str(o), list(r), int(n)) for o, r, n, _, _ in rows], int(rows[0][3]) if rows else 0


def create_stage(conn: psycopg.Connection, fmt: str, width: int, provinces: dict[str, tuple[str | None, str]]) -> None:
    """The job's TEMP tables (this session only, emptied at every commit): the raw chunk and the province map."""
    columns = "doc jsonb" if fmt == "jsonl" else ", ".join(f"c{i} text" for i in range(width))
    conn.execute(f"DROP TABLE IF EXISTS {STAGE}, sync_province")
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
