"""Enrichment push: the sector sources a policy lets a system push for, and who pushed which batch.

``policy_version.sources``: sector source codes (``bhyt``, ``thue``…) the system may push for with the
``enrichment_push`` service; existing versions get none (deny by default).
``sync_push``: one row per (batch job key, pushing system), so the pushing system — and only it — may read the
job through the exchange.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("policy_version", sa.Column("sources", ARRAY(sa.Text), nullable=False,
                                              server_default=sa.text("'{}'::text[]")))
    op.create_table(
        "sync_push",
        sa.Column("job_key", sa.Text, nullable=False),
        sa.Column("system_id", sa.BigInteger,
                  sa.ForeignKey("information_system.system_id", name="fk_sync_push_system_id_information_system"),
                  nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("pushes", sa.Integer, server_default="1", nullable=False),
        sa.Column("first_pushed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_pushed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("job_key", "system_id", name="pk_sync_push"),
    )


def downgrade() -> None:
    op.drop_table("sync_push")
    op.drop_column("policy_version", "sources")
