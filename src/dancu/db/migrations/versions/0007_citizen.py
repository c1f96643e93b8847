"""Citizen channels: SMS rate windows, the SMS outbox, portal accounts, one-time codes, portal sessions and
the correction-request queue.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "citizen_sms_rate",
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("window_start", TZ, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("phone", "window_start", name="pk_citizen_sms_rate"),
    )
    op.create_table(
        "citizen_sms_outbox",
        sa.Column("message_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("to_number", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sent_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name="pk_citizen_sms_outbox"),
    )
    op.create_index("ix_citizen_sms_outbox_to_number", "citizen_sms_outbox", ["to_number"])
    op.create_table(
        "citizen_account",
        sa.Column("account_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("personal_id", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("failed_logins", sa.Integer, server_default="0", nullable=False),
        sa.Column("locked_until", TZ, nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_citizen_account"),
        sa.UniqueConstraint("personal_id", name="uq_citizen_account_personal_id"),
    )
    op.create_table(
        "citizen_otp",
        sa.Column("code_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("account_id", sa.BigInteger, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("code_hash", sa.LargeBinary, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer, server_default="0", nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("code_id", name="pk_citizen_otp"),
        sa.ForeignKeyConstraint(["account_id"], ["citizen_account.account_id"], ondelete="CASCADE",
                                name="fk_citizen_otp_account_id_citizen_account"),
    )
    op.create_index("ix_citizen_otp_account_id_purpose", "citizen_otp", ["account_id", "purpose"])
    op.create_table(
        "citizen_session",
        sa.Column("token_hash", sa.LargeBinary, nullable=False),
        sa.Column("csrf_token", sa.Text, nullable=False),
        sa.Column("account_id", sa.BigInteger, nullable=True),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=True),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_citizen_session"),
        sa.ForeignKeyConstraint(["account_id"], ["citizen_account.account_id"], ondelete="CASCADE",
                                name="fk_citizen_session_account_id_citizen_account"),
    )
    op.create_table(
        "correction_request",
        sa.Column("request_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("personal_id", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("current_value", sa.Text, nullable=True),
        sa.Column("requested_value", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.Text, server_default="open", nullable=False),
        sa.Column("answer", sa.Text, nullable=True),
        sa.Column("answered_by", sa.Text, nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("answered_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_correction_request"),
    )
    op.create_index("ix_correction_request_personal_id", "correction_request", ["personal_id"])
    op.create_index("ix_correction_request_status_created_at", "correction_request", ["status", "created_at"])


def downgrade() -> None:
    for table in ("correction_request", "citizen_session", "citizen_otp", "citizen_account", "citizen_sms_outbox",
                  "citizen_sms_rate"):
        op.drop_table(table)
