"""Apply records that a later stage (b: demographic matching) decided are ``linked`` to the sector-id table.

Stage (a) links in its own chunk statement; this is for ``sync_record`` rows whose ``outcome`` became
``linked`` with a ``resident_id`` afterwards.  The same rules as stage (a): a new value is added with its
provenance (job, line); the same value changes nothing; a different existing value, a deceased resident, or an
earlier line of the same batch giving the resident another value turns the record into an open review item.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

APPLY = """
WITH todo AS (
    SELECT sr.line_no, sr.resident_id, sr.sector_value, r.death_kind, e.value AS existing,
           row_number() OVER same_resident AS nth, first_value(sr.sector_value) OVER same_resident AS first_value
    FROM sync_record sr
    JOIN resident r ON r.resident_id = sr.resident_id
    LEFT JOIN resident_sector_id e ON e.resident_id = sr.resident_id AND e.sector_key = %(key)s
    WHERE sr.job_id = %(job)s AND sr.line_no = ANY(%(lines)s) AND sr.outcome = 'linked'
      AND sr.sector_value IS NOT NULL
    WINDOW same_resident AS (PARTITION BY sr.resident_id ORDER BY sr.line_no)
), judged AS MATERIALIZED (
    SELECT todo.*, array_remove(ARRAY[
               CASE WHEN death_kind IS NOT NULL THEN 'resident_deceased' END,
               CASE WHEN existing IS NOT NULL AND existing <> sector_value THEN 'sector_id_conflict' END,
               CASE WHEN existing IS NULL AND nth > 1 AND first_value <> sector_value THEN 'duplicate_in_file' END
           ], NULL) AS conflicts
    FROM todo
), applied AS (
    INSERT INTO resident_sector_id (resident_id, sector_key, value, source, job_id, line_no, linked_at)
    SELECT resident_id, %(key)s, sector_value, %(source)s, %(job)s, line_no, now()
    FROM judged WHERE cardinality(conflicts) = 0 AND existing IS NULL AND nth = 1
    ON CONFLICT (resident_id, sector_key) DO NOTHING
    RETURNING 1
), reviewed AS (
    UPDATE sync_record sr
    SET outcome = 'review', review_state = 'open', reasons = j.conflicts || sr.reasons,
        detail = sr.detail || jsonb_strip_nulls(jsonb_build_object('existing', j.existing))
    FROM judged j
    WHERE sr.job_id = %(job)s AND sr.line_no = j.line_no AND cardinality(j.conflicts) > 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM judged), (SELECT count(*) FROM applied), (SELECT count(*) FROM reviewed)
"""


def apply_links(conn: psycopg.Connection, job_id: int, line_nos: Sequence[int]) -> dict[str, int]:
    """Apply the ``linked`` rows of ``job_id`` among ``line_nos`` (in the caller's transaction; never commits).

    Returns ``{"linked": rows considered, "applied": values added, "same": already held, "review": turned into
    review items}``.
    """
    job = conn.execute("SELECT params ->> 'sector_key', params ->> 'source' FROM job "
                       "WHERE job_id = %s AND kind = 'sync'", (job_id,)).fetchone()
    if job is None:
        raise ValueError(f"no sync job {job_id}")
    row = conn.execute(APPLY, {"key": job[0], "source": f"sync:{job[1]}:{job_id}", "job": job_id,
                               "lines": list(line_nos)}).fetchone()
    assert row is not None
    considered, applied, review = (int(v) for v in row)
    return {"linked": considered, "applied": applied, "same": considered - applied - review, "review": review}
