"""Exchange log: cached roots of complete subtrees (256 leaves and up) for O(log n) proofs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# An emptied log has no interior nodes either.
RESET_ON_TRUNCATE = """
CREATE OR REPLACE FUNCTION ledger_reset_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_state SET next_seq = 0, last_recorded_at = NULL, pruned_size = 0, pruned_frontier = '';
    DELETE FROM ledger_node;
    RETURN NULL;
END $$;
"""
RESET_STATE_ONLY = """
CREATE OR REPLACE FUNCTION ledger_reset_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_state SET next_seq = 0, last_recorded_at = NULL, pruned_size = 0, pruned_frontier = '';
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "ledger_node",
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("idx", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_ledger_node"),
    )
    op.execute(RESET_ON_TRUNCATE)


def downgrade() -> None:
    op.execute(RESET_STATE_ONLY)
    op.drop_table("ledger_node")
