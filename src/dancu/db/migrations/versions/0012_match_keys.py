"""Blocking keys and per-source weights for demographic matching (stage b of sector synchronisation).

``resident_match_key``: one row per (blocking key, resident); the key is a 64-bit hash of the key text
(``dancu.sync.matching.blocking``), which keeps the table narrow at 100 million residents (≈ 3 keys each).
``match_weights``: the Fellegi–Sunter model per source, learnt from ID-confirmed pairs, inspectable and tunable.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident_match_key",
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("resident_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("key", "resident_id", name="pk_resident_match_key"),
    )
    op.create_index("ix_resident_match_key_resident_id", "resident_match_key", ["resident_id"])
    op.create_table(
        "match_weights",
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("model", JSONB, nullable=False),
        sa.Column("trained_pairs", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_match_weights"),
    )


def downgrade() -> None:
    op.drop_table("match_weights")
    op.drop_table("resident_match_key")
