"""The two statements that judge a chunk of a sector file in its TEMP stage (see ``jobs``).

1. :func:`fast_sql` — the common case, cheaply: a record whose personal ID, name, date of birth and sex are
   written exactly as the registry holds them, for a living resident, with a well-formed identifier, a current
   province code (or none) and an ID whose digits agree with the date of birth and sex, is linked at once
   (``INSERT … ON CONFLICT DO NOTHING``: a resident who already holds a value is left to the second
   statement).  Only raw-text equality and integer tests: no normalisation.  The lines it links go to
   ``sync_done``.
2. :func:`judge_sql` — every other line: normalised (the SQL twins of ``matching.records``), judged, linked
   or recorded in ``sync_record`` with its reasons.

The first statement is an optimisation, never a second opinion: whatever it links, the second would have linked
with no note (``tests/sync/test_pipeline.py`` checks this on every noise kind).
"""

from __future__ import annotations

from typing import Any

from dancu.registry.id_number import FIRST_CENTURY
from dancu.sync.sources import Source

STAGE = "sync_raw"
DONE = "sync_done"  # lines the fast statement linked (TEMP, emptied at commit)
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
    skip = "AND (doc IS NOT NULL OR problem IS NOT NULL)" if fmt == "jsonl" else ""
    return f"""
WITH raw AS (
    SELECT ord AS line_no, coalesce(problem, {not_object}) AS problem,
           nullif(btrim({f['personal_id']}), '') AS pid_text, sync_clean({f['full_name']}) AS full_name,
           nullif(btrim({f['date_of_birth']}), '') AS dob_text, lower(btrim({f['sex']})) AS sex_text,
           nullif(btrim({f['province']}), '') AS province_text, nullif(btrim({f['commune']}), '') AS commune,
           nullif(btrim({f['sector_value']}), '') AS sector_value
    FROM {STAGE} WHERE ord NOT IN (SELECT line_no FROM {DONE}) {skip} OFFSET 0
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
           e.job_id IS NOT DISTINCT FROM %(job)s::bigint AS existing_from_this_job,
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
                WHEN c.sex = r.sex THEN 'same' ELSE 'different' END AS sex_agreement
    FROM checked c
    LEFT JOIN resident r ON cardinality(c.problems) = 0 AND r.personal_id = c.personal_id
    LEFT JOIN resident_sector_id e ON e.resident_id = r.resident_id AND e.sector_key = %(key)s
), agreeing AS (
    -- Duplicates are told among the records that agree with their resident: a relative's record carrying
    -- this resident's ID is in review for its own mismatch and does not take the resident's link.
    SELECT joined.*, first_value(sector_value) OVER same_resident AS first_value,
           row_number() OVER same_resident AS nth
    FROM (SELECT joined.*, resident_id IS NOT NULL AND death_kind IS NULL AND 'different' NOT IN (name, dob,
                 sex_agreement) AS agrees FROM joined OFFSET 0) joined
    WINDOW same_resident AS (PARTITION BY resident_id, agrees ORDER BY line_no)
), decided AS MATERIALIZED (
    SELECT j.*, CASE WHEN cardinality(problems) > 0 THEN 'rejected' WHEN resident_id IS NULL THEN 'unmatched_id'
                     WHEN cardinality(conflicts) > 0 THEN 'review' ELSE 'linked' END AS outcome
    FROM (SELECT agreeing.*, array_remove(ARRAY[
               CASE WHEN name = 'different' THEN 'name_mismatch' END,
               CASE WHEN dob = 'different' THEN 'dob_mismatch' END,
               CASE WHEN sex_agreement = 'different' THEN 'sex_mismatch' END,
               CASE WHEN death_kind IS NOT NULL THEN 'resident_deceased' END,
               CASE WHEN existing IS NOT NULL AND existing <> sector_value AND NOT existing_from_this_job
                    THEN 'sector_id_conflict' END,
               -- an earlier record of this file (this chunk, an earlier one, or the fast statement) linked the
               -- resident to another value
               CASE WHEN NOT agrees THEN NULL
                    WHEN existing IS NOT NULL AND existing <> sector_value AND existing_from_this_job
                    THEN 'duplicate_in_file'
                    WHEN existing IS NULL AND nth > 1 AND first_value <> sector_value
                    THEN 'duplicate_in_file' END], NULL) AS conflicts
          FROM agreeing) j
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
               'name', name, 'dob', dob, 'sex', sex_agreement,
               -- the value the resident holds, when it is the question (otherwise it depends on which chunk
               -- committed first)
               'existing', CASE WHEN conflicts && '{{sector_id_conflict,duplicate_in_file}}' THEN existing END,
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


def fast_sql(source: Source, fmt: str, header: list[str], current_provinces: list[str], *,
             skip_conflicts: bool = True) -> str:
    """Statement 1 (see the module docstring); its row count is the number of lines linked.

    ``skip_conflicts=False`` leaves out ``ON CONFLICT DO NOTHING`` (which doubles the cost of an insert): the
    statement then fails on the first resident who already holds a value — the caller tries it first, in a
    savepoint, where values are new (a first synchronisation of a sector), and falls back to the other."""
    f = _fields(source, fmt, header)
    provinces = ", ".join(f"'{code}'" for code in sorted(current_provinces) if code.isdigit())
    province_ok = f"(s.province IS NULL OR s.province IN ('', {provinces}))" if provinces else "s.province IS NULL"
    century = f"{FIRST_CENTURY} + 100 * (substr(r.personal_id, 4, 1)::int / 2) + substr(r.personal_id, 5, 2)::int"
    return f"""
WITH s AS (
    SELECT ord, {f['personal_id']} AS personal_id, {f['full_name']} AS full_name, {f['date_of_birth']} AS dob,
           {f['sex']} AS sex, {f['province']} AS province, btrim({f['sector_value']}) AS sector_value
    FROM {STAGE} WHERE problem IS NULL
), linked AS (
    INSERT INTO resident_sector_id (resident_id, sector_key, value, source, job_id, line_no, linked_at)
    SELECT r.resident_id, %(key)s, s.sector_value, %(source)s, %(job)s, s.ord, now()
    FROM s JOIN resident r ON r.personal_id = s.personal_id
    WHERE r.full_name = s.full_name AND r.death_kind IS NULL
      AND s.dob IN ({_renderings()})
      AND CASE WHEN lower(btrim(s.sex)) IN {_SEX_MALE} THEN '1' WHEN lower(btrim(s.sex)) IN {_SEX_FEMALE} THEN '2'
               WHEN coalesce(btrim(s.sex), '') = '' THEN r.sex END = r.sex
      AND {province_ok}
      AND s.sector_value ~ %(pattern)s
      AND {century} = r.dob_year
      AND CASE WHEN substr(r.personal_id, 4, 1)::int %% 2 = 1 THEN '2' ELSE '1' END = r.sex
    {"ON CONFLICT DO NOTHING" if skip_conflicts else ""}
    RETURNING line_no
)
INSERT INTO {DONE} (line_no) SELECT line_no FROM linked
"""


def _renderings() -> str:
    """The usual ways of writing the resident's date of birth (DD/MM/YYYY, YYYY-MM-DD, MM/YYYY, YYYY-MM, YYYY)."""
    day, month, year = "lpad(r.dob_day::text, 2, '0')", "lpad(r.dob_month::text, 2, '0')", "r.dob_year::text"
    return (f"CASE WHEN r.dob_day IS NOT NULL THEN {day} || '/' || {month} || '/' || {year} "
            f"WHEN r.dob_month IS NOT NULL THEN {month} || '/' || {year} ELSE {year} END, "
            f"CASE WHEN r.dob_day IS NOT NULL THEN {year} || '-' || {month} || '-' || {day} "
            f"WHEN r.dob_month IS NOT NULL THEN {year} || '-' || {month} ELSE {year} END")
