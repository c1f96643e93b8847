"""Sector synchronisation step 1: the staging table, per-record outcomes, the loose name key function.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The SQL twin of dancu.sync.matching.names.loose_key (tests/sync/test_names.py keeps them equal).
NAME_LOOSE = r"""
CREATE FUNCTION sync_name_loose(folded text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(w, ' ' ORDER BY w COLLATE "C"), '')
    FROM (SELECT regexp_replace(CASE x WHEN 'vo' THEN 'vu' WHEN 'huynh' THEN 'hoang' ELSE x END,
                                '^([^aeiouy]+)y$', '\1i') AS w
          FROM unnest(string_to_array(folded, ' ')) AS x
          WHERE x NOT IN ('van', 'thi') AND x <> '') AS words
$$
"""


def upgrade() -> None:
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
    op.create_table(
        "sync_record",
        sa.Column("job_id", sa.BigInteger, nullable=False),
        sa.Column("line_no", sa.BigInteger, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("resident_id", sa.BigInteger),
        sa.Column("reasons", ARRAY(sa.Text), nullable=False),
        sa.Column("sector_value", sa.Text),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("review_state", sa.Text),
        sa.Column("reviewed_by", sa.Text),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("review_note", sa.Text),
        sa.PrimaryKeyConstraint("job_id", "line_no", name="pk_sync_record"),
    )
    op.create_index("ix_sync_record_open_review", "sync_record", ["job_id", "line_no"],
                    postgresql_where=sa.text("review_state = 'open'"))
    op.execute(NAME_LOOSE)


def downgrade() -> None:
    op.execute("DROP FUNCTION sync_name_loose(text)")
    op.drop_table("sync_record")
    op.drop_table("sync_stage")
