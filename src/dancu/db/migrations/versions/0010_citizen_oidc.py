"""Citizen e-identification (OIDC) logins: VNeID subjects linked to personal IDs, the session's assurance
level and pending authorization request, and an index for expiring sessions.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
SESSION_COLUMNS = ("eid_subject_id", "access_level", "oidc_state", "oidc_nonce", "oidc_verifier")


def upgrade() -> None:
    op.create_table(
        "citizen_eid_subject",
        sa.Column("subject_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("personal_id", sa.Text, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("first_login", TZ, nullable=False),
        sa.Column("last_login", TZ, nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name="pk_citizen_eid_subject"),
        sa.UniqueConstraint("issuer", "subject", name="uq_citizen_eid_subject_issuer_subject"),
    )
    op.create_index("ix_citizen_eid_subject_personal_id", "citizen_eid_subject", ["personal_id"])
    op.add_column("citizen_session", sa.Column("eid_subject_id", sa.BigInteger, nullable=True))
    op.add_column("citizen_session", sa.Column("access_level", sa.SmallInteger, nullable=True))
    for name in ("oidc_state", "oidc_nonce", "oidc_verifier"):
        op.add_column("citizen_session", sa.Column(name, sa.Text, nullable=True))
    op.create_foreign_key("fk_citizen_session_eid_subject_id_citizen_eid_subject", "citizen_session",
                          "citizen_eid_subject", ["eid_subject_id"], ["subject_id"], ondelete="CASCADE")
    op.create_index("ix_citizen_session_expires_at", "citizen_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_citizen_session_expires_at", table_name="citizen_session")
    op.drop_constraint("fk_citizen_session_eid_subject_id_citizen_eid_subject", "citizen_session",
                       type_="foreignkey")
    for name in SESSION_COLUMNS:
        op.drop_column("citizen_session", name)
    op.drop_table("citizen_eid_subject")
