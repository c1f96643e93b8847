"""Sector identifiers in a narrow table keyed by resident, their history, and SQL normalisation for sync.

* ``resident_sector_id`` (one row per resident and sector key, with provenance: source, job, line, time) and
  ``resident_sector_id_history`` (every superseded value, with when and by whom it was replaced) replace the
  ``resident.sector_ids`` JSONB column: linking a sector identifier no longer rewrites the wide resident row
  and its seven indexes.  Distribution key ``resident_id`` (co-located with ``resident`` under Citus).
* ``sync_stage`` goes: each job stages into a TEMP table shaped like its file.
* ``sync_clean`` / ``sync_unaccent`` / ``sync_fold`` / ``sync_days_in_month``: IMMUTABLE one-expression SQL
  functions (inlined by the planner), the SQL twins of ``kit.text.clean`` / ``kit.text.fold`` (tests keep them equal).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Combining marks (what NFD splits off a letter): general, extended, supplement, for symbols.
_MARKS = f"{chr(0x0300)}-{chr(0x036F)}{chr(0x1AB0)}-{chr(0x1AFF)}{chr(0x1DC0)}-{chr(0x1DFF)}{chr(0x20D0)}-{chr(0x20FF)}"


def _functions() -> list[str]:
    return [
        r"""CREATE FUNCTION sync_clean(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT btrim(regexp_replace(translate(normalize(t, NFC), 'ÐðƉɖ', 'ĐđĐđ'), '\s+', ' ', 'g'))
        $$""",
        # sync_unaccent takes already cleaned text: đ → d, decompose, drop the marks, recompose, lower case (last,
        # so that under any lc_ctype what lower() sees of a Vietnamese name is ASCII).  A translate() over every
        # precomposed letter was 20× dearer: it scans its whole map for each character.
        f"""CREATE FUNCTION sync_unaccent(cleaned text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT lower(normalize(regexp_replace(normalize(translate(cleaned, 'đĐ', 'dd'), NFD), '[{_MARKS}]', '',
                                                  'g'), NFC))
        $$""",
        """CREATE FUNCTION sync_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT sync_unaccent(sync_clean(t))
        $$""",
        """CREATE FUNCTION sync_days_in_month(y integer, m integer) RETURNS integer
           LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE WHEN m IN (4, 6, 9, 11) THEN 30
                        WHEN m = 2 THEN CASE WHEN y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 29 ELSE 28 END
                        ELSE 31 END
        $$""",
    ]


def upgrade() -> None:
    op.create_table(
        "resident_sector_id",
        sa.Column("resident_id", sa.BigInteger, nullable=False),
        sa.Column("sector_key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("job_id", sa.BigInteger),
        sa.Column("line_no", sa.BigInteger),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resident_id", "sector_key", name="pk_resident_sector_id"),
    )
    op.create_table(
        "resident_sector_id_history",
        sa.Column("resident_id", sa.BigInteger, nullable=False),
        sa.Column("history_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("sector_key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("job_id", sa.BigInteger),
        sa.Column("line_no", sa.BigInteger),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("resident_id", "history_id", name="pk_resident_sector_id_history"),
    )
    op.execute("""
        INSERT INTO resident_sector_id (resident_id, sector_key, value, source, job_id, line_no, linked_at)
        SELECT r.resident_id, e.key, e.value, coalesce(p.stamp ->> 'source', 'registry'),
               CASE WHEN p.stamp ->> 'source' ~ '^sync:[a-z0-9_]+:[0-9]{1,18}$'
                    THEN split_part(p.stamp ->> 'source', ':', 3)::bigint END,
               NULL, coalesce((p.stamp ->> 'updated_at')::timestamptz, r.updated_at)
        FROM resident r
        CROSS JOIN LATERAL jsonb_each_text(r.sector_ids) AS e
        CROSS JOIN LATERAL (SELECT coalesce(r.provenance -> ('sector_ids.' || e.key),
                                            r.provenance -> 'sector_ids') AS stamp) AS p
        WHERE r.sector_ids IS NOT NULL AND r.sector_ids <> '{}' AND e.value IS NOT NULL
    """)
    op.drop_column("resident", "sector_ids")
    op.drop_table("sync_stage")
    for statement in _functions():
        op.execute(statement)


def downgrade() -> None:
    for name in ("sync_days_in_month(integer, integer)", "sync_fold(text)", "sync_unaccent(text)",
                 "sync_clean(text)"):
        op.execute(f"DROP FUNCTION {name}")
    op.create_table(
        "sync_stage",
        sa.Column("job_id", sa.BigInteger, nullable=False),
        sa.Column("line_no", sa.BigInteger, nullable=False),
        *(sa.Column(name, sa.Text) for name in ("personal_id", "full_name", "name_folded", "name_loose")),
        *(sa.Column(name, sa.SmallInteger) for name in ("dob_year", "dob_month", "dob_day")),
        *(sa.Column(name, sa.Text) for name in ("sex", "province", "sector_value")),
        sa.Column("problems", ARRAY(sa.Text)),
        sa.Column("notes", ARRAY(sa.Text)),
        sa.PrimaryKeyConstraint("job_id", "line_no", name="pk_sync_stage"),
        prefixes=["UNLOGGED"],
    )
    op.add_column("resident", sa.Column("sector_ids", sa.dialects.postgresql.JSONB))
    op.execute("""
        UPDATE resident r SET sector_ids = s.ids
        FROM (SELECT resident_id, jsonb_object_agg(sector_key, value) AS ids FROM resident_sector_id
              GROUP BY resident_id) s
        WHERE r.resident_id = s.resident_id
    """)
    op.drop_table("resident_sector_id_history")
    op.drop_table("resident_sector_id")
