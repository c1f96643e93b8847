"""Operator accounts and API tokens (owned by the operators work).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> "sa.Column[Any]":
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "operator",
        sa.Column("operator_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        _at("disabled_at"),
        sa.Column("disabled_by", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("operator_id", name="pk_operator"),
        sa.UniqueConstraint("username", name="uq_operator_username"),
    )
    op.create_table(
        "operator_token",
        sa.Column("token_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("operator_id", sa.BigInteger, nullable=False),
        sa.Column("token_hash", sa.LargeBinary, nullable=False),
        sa.Column("hint", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        _at("expires_at", nullable=False),
        _at("last_used_at"),
        _at("revoked_at"),
        sa.Column("revoked_by", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_operator_token"),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.operator_id"],
                                name="fk_operator_token_operator_id_operator"),
        sa.UniqueConstraint("token_hash", name="uq_operator_token_token_hash"),
    )
    op.create_index("ix_operator_token_operator_id", "operator_token", ["operator_id"])
    op.create_table(
        "operator_event",
        sa.Column("event_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("operator_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("details", postgresql.JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_operator_event"),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.operator_id"],
                                name="fk_operator_event_operator_id_operator"),
    )
    op.create_index("ix_operator_event_operator_id", "operator_event", ["operator_id"])


def downgrade() -> None:
    op.drop_table("operator_event")
    op.drop_table("operator_token")
    op.drop_table("operator")
