"""Exchange log step 2: a shared seq counter for several writer processes, archives and the prune point,
a BRIN index for time ranges.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# TRUNCATE empties the log (tests, a fresh deployment): the counter and prune point start again at 0.
RESET_ON_TRUNCATE = """
CREATE FUNCTION ledger_reset_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_state SET next_seq = 0, last_recorded_at = NULL, pruned_size = 0, pruned_frontier = '';
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entry_truncate_resets_state AFTER TRUNCATE ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_reset_state();
"""


def upgrade() -> None:
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.SmallInteger, nullable=False),
        sa.Column("next_seq", sa.BigInteger, nullable=False),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True)),
        sa.Column("pruned_size", sa.BigInteger, nullable=False),
        sa.Column("pruned_frontier", sa.LargeBinary, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_ledger_state_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_state"),
    )
    op.execute("INSERT INTO ledger_state (id, next_seq, last_recorded_at, pruned_size, pruned_frontier) "
               "SELECT 1, coalesce(max(seq) + 1, 0), max(recorded_at), 0, '' FROM ledger_entry")
    op.execute(RESET_ON_TRUNCATE)
    op.create_table(
        "ledger_archive",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("end_seq", sa.BigInteger, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.LargeBinary, nullable=False),
        sa.Column("end_root", sa.LargeBinary, nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("month", name="pk_ledger_archive"),
    )
    # recorded_at grows with seq: a BRIN index finds a time range for almost nothing at insert time
    op.create_index("ix_ledger_entry_recorded_at", "ledger_entry", ["recorded_at"], postgresql_using="brin")


def downgrade() -> None:
    op.drop_index("ix_ledger_entry_recorded_at", "ledger_entry")
    op.drop_table("ledger_archive")
    op.execute("DROP TRIGGER IF EXISTS ledger_entry_truncate_resets_state ON ledger_entry")
    op.execute("DROP FUNCTION IF EXISTS ledger_reset_state()")
    op.drop_table("ledger_state")
