"""Citizen SMS delivery: ``citizen_sms_outbox`` becomes a transactional outbox with its delivery history
(channel, status, attempts, lease/backoff time, the provider's message id, last error, expiry; the text
nullable, blanked once sent), and ``citizen_sms_inbound`` keeps the keys of aggregator messages already taken
(webhook replays and retries are not looked up twice).

Rows written before this revision were the development outbox's: they become channel ``outbox``, status
``demo`` (never sent, text kept).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
TABLE = "citizen_sms_outbox"


def upgrade() -> None:
    op.alter_column(TABLE, "sent_at", new_column_name="created_at")
    op.alter_column(TABLE, "text", nullable=True)
    # the old rows: the development outbox's, never sent
    op.add_column(TABLE, sa.Column("kind", sa.Text, server_default="message", nullable=False))
    op.add_column(TABLE, sa.Column("channel", sa.Text, server_default="outbox", nullable=False))
    op.add_column(TABLE, sa.Column("status", sa.Text, server_default="demo", nullable=False))
    for name in ("kind", "channel", "status"):
        op.alter_column(TABLE, name, server_default=None)
    op.add_column(TABLE, sa.Column("expires_at", TZ, nullable=True))
    op.add_column(TABLE, sa.Column("attempts", sa.Integer, server_default="0", nullable=False))
    op.add_column(TABLE, sa.Column("next_attempt_at", TZ, nullable=True))
    op.add_column(TABLE, sa.Column("sent_at", TZ, nullable=True))
    op.add_column(TABLE, sa.Column("provider_message_id", sa.Text, nullable=True))
    op.add_column(TABLE, sa.Column("last_error", sa.Text, nullable=True))
    op.create_index("ix_citizen_sms_outbox_due", TABLE, ["channel", "next_attempt_at"],
                    postgresql_where=sa.text("status IN ('pending', 'sending')"))
    op.create_table(
        "citizen_sms_inbound",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_citizen_sms_inbound"),
    )
    op.create_index("ix_citizen_sms_inbound_received_at", "citizen_sms_inbound", ["received_at"])


def downgrade() -> None:
    op.drop_table("citizen_sms_inbound")
    op.drop_index("ix_citizen_sms_outbox_due", table_name=TABLE)
    op.execute(f"DELETE FROM {TABLE} WHERE text IS NULL")  # blanked rows cannot go back to the old shape
    for name in ("last_error", "provider_message_id", "sent_at", "next_attempt_at", "attempts", "expires_at",
                 "status", "channel", "kind"):
        op.drop_column(TABLE, name)
    op.alter_column(TABLE, "text", nullable=False)
    op.alter_column(TABLE, "created_at", new_column_name="sent_at")
