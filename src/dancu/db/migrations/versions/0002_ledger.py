"""Exchange log: append-only entries partitioned by month, signed tree heads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Creates the month's partition of ledger_entry if missing; returns its name.
ENSURE_PARTITION = """
CREATE FUNCTION ledger_ensure_partition(moment timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamptz := date_trunc('month', moment AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text := 'ledger_entry_' || to_char(moment AT TIME ZONE 'UTC', 'YYYY"m"MM');
BEGIN
    IF to_regclass('ledger_partitions.' || name) IS NULL THEN
        EXECUTE format('CREATE TABLE IF NOT EXISTS ledger_partitions.%I PARTITION OF ledger_entry '
                       'FOR VALUES FROM (%L) TO (%L)', name, month_start, month_start + interval '1 month');
    END IF;
    RETURN name;
END $$
"""

# Append-only: ordinary sessions cannot change or remove entries (the Merkle tree catches anyone who can).
APPEND_ONLY = """
CREATE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entry is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS ledger_partitions")
    op.create_table(
        "ledger_entry",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("client_system", sa.Text, nullable=False),
        sa.Column("relaying_platform", sa.Text),
        sa.Column("end_user", sa.Text),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.Text),
        sa.Column("personal_ids", ARRAY(sa.Text), nullable=False),
        sa.Column("fields_disclosed", ARRAY(sa.Text), nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("error_code", sa.Text),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("response_hash", sa.LargeBinary, nullable=False),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("correlation_id", sa.Text, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("seq", "recorded_at", name="pk_ledger_entry"),
        postgresql_partition_by="RANGE (recorded_at)",
    )
    op.create_index("ix_ledger_entry_seq", "ledger_entry", ["seq"])
    op.create_index("ix_ledger_entry_personal_ids", "ledger_entry", ["personal_ids"], postgresql_using="gin")
    op.create_index("ix_ledger_entry_client_system_recorded_at", "ledger_entry", ["client_system", "recorded_at"])
    op.create_table(
        "ledger_tree_head",
        sa.Column("tree_size", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name="pk_ledger_tree_head"),
    )
    op.execute(ENSURE_PARTITION)
    op.execute(APPEND_ONLY)
    op.execute("SELECT ledger_ensure_partition(now())")
    op.execute("SELECT ledger_ensure_partition(now() + interval '1 month')")


def downgrade() -> None:
    op.drop_table("ledger_tree_head")
    op.drop_table("ledger_entry")
    op.execute("DROP FUNCTION IF EXISTS ledger_reject_change()")
    op.execute("DROP FUNCTION IF EXISTS ledger_ensure_partition(timestamptz)")
    op.execute("DROP SCHEMA IF EXISTS ledger_partitions CASCADE")
