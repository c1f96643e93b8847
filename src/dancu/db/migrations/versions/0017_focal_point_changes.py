"""Focal points change after onboarding: ``focal_point.withdrawn_at`` and the history ``focal_point_change``.

``focal_point.withdrawn_at``: set when an operator withdraws the officer; the row stays (the history names it), the
public directory no longer shows it.
``focal_point_change``: one row per change — ``proposed`` (step 1), ``added`` (step 2 or an operator),
``published`` (step 2), ``updated``, ``withdrawn`` — with who (``actor``), when, why (``reason``) and ``changes``
(``{field: [old, new]}``).

Focal points recorded before this revision get one row each: ``added`` if published, else ``proposed``; actor
``migration 0017``, at their ``created_at``, with every field from null.

The downgrade unpublishes withdrawn focal points before dropping ``withdrawn_at``, so none of them comes back to
the directory.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

KINDS = "kind IN ('proposed', 'added', 'published', 'updated', 'withdrawn')"
BACKFILL = """
INSERT INTO focal_point_change (focal_point_id, kind, actor, reason, changes, changed_at)
SELECT focal_point_id, CASE WHEN published THEN 'added' ELSE 'proposed' END, 'migration 0017',
       'named during onboarding (step 1 or 2), before focal points had a history',
       jsonb_build_object('name', jsonb_build_array(NULL, name), 'position', jsonb_build_array(NULL, position),
                          'function', jsonb_build_array(NULL, function), 'phone', jsonb_build_array(NULL, phone),
                          'email', jsonb_build_array(NULL, email)),
       created_at
FROM focal_point
ORDER BY focal_point_id
"""


def upgrade() -> None:
    op.add_column("focal_point", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "focal_point_change",
        sa.Column("change_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("focal_point_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("changes", JSONB, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("change_id", name="pk_focal_point_change"),
        sa.ForeignKeyConstraint(["focal_point_id"], ["focal_point.focal_point_id"],
                                name="fk_focal_point_change_focal_point_id_focal_point"),
        sa.CheckConstraint(KINDS, name=op.f("ck_focal_point_change_kind")),
    )
    op.create_index("ix_focal_point_change_focal_point_id", "focal_point_change", ["focal_point_id"])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute("UPDATE focal_point SET published = false WHERE withdrawn_at IS NOT NULL")
    op.drop_index("ix_focal_point_change_focal_point_id", table_name="focal_point_change")
    op.drop_table("focal_point_change")
    op.drop_column("focal_point", "withdrawn_at")
