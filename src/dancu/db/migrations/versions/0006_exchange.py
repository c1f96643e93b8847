"""Exchange: the staging table of asynchronous verify jobs (one row per submitted line).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_job_item",
        sa.Column(
            "job_id",
            sa.BigInteger,
            sa.ForeignKey("job.job_id", ondelete="CASCADE", name="fk_exchange_job_item_job_id_job"),
            nullable=False,
        ),
        sa.Column("line_no", sa.BigInteger, nullable=False),
        sa.Column("personal_id", sa.Text, nullable=False),
        sa.Column("input", JSONB, nullable=False),
        sa.Column("result", JSONB, nullable=True),
        sa.PrimaryKeyConstraint("job_id", "line_no", name="pk_exchange_job_item"),
    )


def downgrade() -> None:
    op.drop_table("exchange_job_item")
