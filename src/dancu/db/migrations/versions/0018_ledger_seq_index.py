"""The exchange log's second index on ``seq`` goes: the primary key ``(seq, recorded_at)`` leads with ``seq``
and serves every lookup, range and order by ``seq`` (each partition's ``*_pkey``), so ``ix_ledger_entry_seq``
was a copy of it kept up to date on every append — a third of the log's index bytes (64 of 217 MB for 2.8
million entries) and one more index insertion per entry while the ``ledger_state`` row lock is held.
Dropping it on the parent drops it on every partition; the downgrade builds it again.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_ledger_entry_seq")  # also where an operator dropped it by hand first


def downgrade() -> None:
    op.create_index("ix_ledger_entry_seq", "ledger_entry", ["seq"])
