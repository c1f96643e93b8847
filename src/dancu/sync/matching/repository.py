"""Every SQL statement of demographic matching (raw psycopg, inside the caller's transaction)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import orjson
import psycopg

from dancu.catalogs import names as catalog_names
from dancu.db.bulk import copy_text
from dancu.sync.matching.fields import Communes

RESIDENT_FIELDS = ("r.resident_id, r.full_name, r.dob_year, r.dob_month, r.dob_day, r.sex, r.permanent_province, "
                   "r.current_province, r.permanent_commune, r.current_commune, r.death_kind")
TF_SOURCE = "_registry"  # match_weights row holding the registry's name frequencies

# A record's candidates: residents sharing one of its keys, skipping keys whose block exceeds the cap (the LIMIT
# reads at most cap + 1 index entries per key, so a huge block costs no more than a small one).  The residents'
# rows are then read by primary key (``= ANY``): a join here tempts the planner into a scan of all residents.
PAIRS = """
WITH blocks AS MATERIALIZED (
    SELECT k.key, ARRAY(SELECT m.resident_id FROM resident_match_key m WHERE m.key = k.key LIMIT %(cap)s + 1) AS ids
    FROM (SELECT DISTINCT key FROM match_probe) k
)
(SELECT p.line_no, c.resident_id
 FROM match_probe p JOIN blocks b ON b.key = p.key AND cardinality(b.ids) <= %(cap)s
 CROSS JOIN LATERAL unnest(b.ids) AS c(resident_id)
 UNION
 SELECT line_no, resident_id FROM match_id_hint)
UNION ALL
SELECT -1, count(*) FROM blocks WHERE cardinality(ids) > %(cap)s  -- line -1: how many keys the cap skipped
"""
RESIDENTS = f"SELECT {RESIDENT_FIELDS} FROM resident r WHERE r.resident_id = ANY(%s)"
SECTOR_VALUES = "SELECT resident_id, value FROM resident_sector_id WHERE resident_id = ANY(%s) AND sector_key = %s"
def probe(cur: psycopg.Cursor[Any], pairs: Iterable[tuple[int, int]], hints: Iterable[tuple[int, int]]) -> None:
    """Load (line_no, key) probes, and (line_no, resident_id) of the resident a record's ID pointed at (always a
    candidate), into temporary tables emptied at commit."""
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS match_probe (line_no bigint, key bigint) ON COMMIT DELETE ROWS")
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS match_id_hint (line_no bigint, resident_id bigint)"
                " ON COMMIT DELETE ROWS")
    cur.execute("TRUNCATE match_probe, match_id_hint")
    copy_text(cur, "match_probe", ("line_no", "key"), (f"{line}\t{key}\n" for line, key in pairs))
    copy_text(cur, "match_id_hint", ("line_no", "resident_id"), (f"{line}\t{rid}\n" for line, rid in hints))
    cur.execute("ANALYZE match_probe")


def candidates(cur: psycopg.Cursor[Any], sector_key: str, cap: int) -> tuple[list[tuple[Any, ...]], int]:
    """(line_no, resident fields…, the resident's current value for ``sector_key``) per probed pair, and the
    number of keys skipped for exceeding the cap."""
    pairs = cur.execute(PAIRS, {"cap": cap}).fetchall()
    capped = sum(int(rid) for line, rid in pairs if line == -1)
    ids = sorted({int(rid) for line, rid in pairs if line != -1})
    rows = {int(row[0]): row for row in cur.execute(RESIDENTS, (ids,))}
    values = dict(cur.execute(SECTOR_VALUES, (ids, sector_key)).fetchall())
    return [(line, *rows[rid], values.get(rid)) for line, rid in pairs if rid in rows and line != -1], capped


# Stage (b) takes the records whose ID is missing or not found, and those whose ID found someone the record does
# not describe (a relative's or mistyped ID: stage (a) review for name/dob/sex only) — never other conflicts.
def id_failed(a: str = "") -> str:
    """The stage-(b) condition on sync_record (columns prefixed with ``a``, e.g. ``"s."``)."""
    return (f"({a}outcome = 'unmatched_id' OR ({a}outcome = 'review' AND {a}review_state = 'open'"
            f" AND NOT {a}detail ? 'match' AND {a}reasons && '{{name_mismatch,dob_mismatch,sex_mismatch}}'"
            f" AND NOT {a}reasons && '{{resident_deceased,sector_id_conflict,duplicate_in_file}}'))")


def pending(cur: psycopg.Cursor[Any], job_id: int, after: int, limit: int) -> list[tuple[Any, ...]]:
    """The next stage-(b) records of a job in line order after ``after``:
    (line, value, detail, outcome, resident, reasons)."""
    return cur.execute(
        f"""SELECT line_no, sector_value, detail, outcome, resident_id, reasons FROM sync_record
            WHERE job_id = %s AND line_no > %s AND {id_failed()} ORDER BY line_no LIMIT %s""",
        (job_id, after, limit)).fetchall()


def refresh_statistics(cur: psycopg.Cursor[Any]) -> None:
    """Stage (a) has just written the job's rows: without fresh statistics the planner takes the job for one row
    and the link statements (``sync.links``) loop over it quadratically (17 s instead of 0.1 s per 3,000 links)."""
    cur.execute("ANALYZE sync_record, resident_sector_id")


def job_params(cur: psycopg.Cursor[Any], job_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = cur.execute("SELECT params, report FROM job WHERE job_id = %s", (job_id,)).fetchone()
    if row is None:
        raise LookupError(f"no job {job_id}")
    return dict(row[0]), dict(row[1] or {})


def save_stage_b(cur: psycopg.Cursor[Any], job_id: int, state: dict[str, Any]) -> None:
    cur.execute("UPDATE job SET report = jsonb_set(coalesce(report, '{}'), '{stage_b}', %s::jsonb), "
                "updated_at = now() WHERE job_id = %s", (orjson.dumps(state).decode(), job_id))


def update_records(cur: psycopg.Cursor[Any], job_id: int, rows: list[tuple[int, str, int | None, list[str],
                                                                              dict[str, Any]]]) -> None:
    """Write each record's stage-(b) outcome (COPY, then one UPDATE); only rows still waiting for stage (b)
    change (idempotent)."""
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS match_outcome (line_no bigint, outcome text, resident_id bigint,"
                " reasons text[], detail jsonb) ON COMMIT DELETE ROWS")
    cur.execute("TRUNCATE match_outcome")
    with cur.copy("COPY match_outcome FROM STDIN") as copy:
        for line, outcome, rid, reasons, detail in rows:
            copy.write_row((line, outcome, rid, reasons, orjson.dumps(detail).decode()))
    cur.execute(
        f"""UPDATE sync_record s SET outcome = o.outcome, resident_id = o.resident_id, reasons = o.reasons,
                   detail = s.detail || o.detail, review_state = CASE WHEN o.outcome = 'review' THEN 'open' END
            FROM match_outcome o
            WHERE s.job_id = %s AND s.line_no = o.line_no AND {id_failed("s.")}""",
        (job_id,))


def linked_residents(cur: psycopg.Cursor[Any], job_id: int, lines: list[int]) -> list[tuple[Any, ...]]:
    """(line_no, resident fields…) of the lines among ``lines`` that stage (a) linked by ID in this job."""
    return cur.execute(
        f"""SELECT e.line_no, {RESIDENT_FIELDS}
            FROM resident_sector_id e JOIN resident r ON r.resident_id = e.resident_id
            WHERE e.job_id = %s AND e.line_no = ANY(%s)""", (job_id, lines)).fetchall()


def random_residents(cur: psycopg.Cursor[Any], count: int, seed: int = 7) -> list[tuple[Any, ...]]:
    """About ``count`` residents spread over the table, the same ones while the table holds the same rows.

    Numbers drawn with a fixed seed between the smallest and largest ``resident_id``, read by primary-key probes:
    cheap at any size.  (A ``TABLESAMPLE`` share computed from the planner's row estimate was cheap too, but the
    estimate moves whenever autovacuum re-analyses the table, and with it the sample, the learnt u-probabilities
    and so the outcome of a rerun.)  Drawn four times over, as sequence caching leaves gaps in the numbers.
    """
    bounds = cur.execute("SELECT min(resident_id), max(resident_id) FROM resident").fetchone()
    if bounds is None or bounds[0] is None:
        return []
    low, high = int(bounds[0]), int(bounds[1])
    rng = random.Random(seed)
    draws = list(dict.fromkeys(rng.randint(low, high) for _ in range(4 * count)))
    rows = cur.execute(f"SELECT {RESIDENT_FIELDS} FROM resident r WHERE r.resident_id = ANY(%s)", (draws,)).fetchall()
    found = {row[0]: row for row in rows}
    return [found[n] for n in draws if n in found][:count]


def communes(cur: psycopg.Cursor[Any]) -> Communes:
    """The catalogue mapping of pre-2025 communes to 2025 communes, and the codes of the communes in force today
    (both empty where the catalogues are not loaded: codes then compare as given)."""
    pairs = cur.execute("SELECT from_code, to_code FROM catalog_mapping WHERE mapping = %s ORDER BY from_code, to_code",
                        (catalog_names.COMMUNE_63_TO_2025,)).fetchall()
    current = cur.execute("SELECT code FROM catalog_entry WHERE catalog = %s AND valid_from <= current_date"
                          " AND (valid_to IS NULL OR valid_to > current_date)", (catalog_names.COMMUNE,)).fetchall()
    return Communes(((str(a), str(b)) for a, b in pairs), (str(c) for (c,) in current))


def load_model(cur: psycopg.Cursor[Any], source: str) -> dict[str, Any] | None:
    row = cur.execute("SELECT model FROM match_weights WHERE source = %s", (source,)).fetchone()
    return dict(row[0]) if row else None


def save_model(cur: psycopg.Cursor[Any], source: str, model: dict[str, Any], pairs: int) -> None:
    cur.execute(
        """INSERT INTO match_weights (source, model, trained_pairs, updated_at) VALUES (%s, %s, %s, now())
           ON CONFLICT (source) DO UPDATE SET model = excluded.model, trained_pairs = excluded.trained_pairs,
                                              updated_at = now()""",
        (source, orjson.dumps(model).decode(), pairs))


# -- the key index --------------------------------------------------------------------------------------------


def residents_after(cur: psycopg.Cursor[Any], after: int, limit: int, since: Any = None) -> list[tuple[Any, ...]]:
    changed = "AND updated_at >= %(since)s" if since is not None else ""
    return cur.execute(
        f"""SELECT resident_id, name_folded, dob_year, dob_month, dob_day, sex, permanent_province,
                   current_province FROM resident WHERE resident_id > %(after)s {changed}
            ORDER BY resident_id LIMIT %(limit)s""", {"after": after, "limit": limit, "since": since}).fetchall()


def replace_keys(cur: psycopg.Cursor[Any], resident_ids: list[int], rows: Iterable[str]) -> None:
    cur.execute("DELETE FROM resident_match_key WHERE resident_id = ANY(%s)", (resident_ids,))
    copy_text(cur, "resident_match_key", ("key", "resident_id"), rows)


def name_frequencies(cur: psycopg.Cursor[Any]) -> dict[str, dict[str, float]]:
    """Share of residents per folded given name (last word) and family name (first word)."""
    total = cur.execute("SELECT count(*) FROM resident").fetchone()
    n = max(int(total[0]) if total else 0, 1)
    out: dict[str, dict[str, float]] = {}
    parts = (("given", "substring(name_folded from '[^ ]+$')"), ("family", "split_part(name_folded, ' ', 1)"))
    for part, expr in parts:
        rows = cur.execute(f"SELECT {expr}, count(*) FROM resident GROUP BY 1 HAVING count(*) > 1").fetchall()
        out[part] = {str(name): round(int(count) / n, 8) for name, count in rows if name}
    return out
