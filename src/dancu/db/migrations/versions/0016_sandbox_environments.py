"""Test environment of the exchange: the sandbox of synthetic residents, and test policies and counters.

``sandbox_resident``: the residents loaded by ``dancu agencies sandbox load`` (synthetic, no real person);
test credentials reach only them, production credentials never do.
``policy_version.environment`` (``test`` | ``production``): the version in force for calls made with a
credential of that kind; numbered, and open once, per system and environment.  Existing versions are
production ones.
``quota_usage.environment``: test calls count against the test policy's quota, apart from production ones.

Systems already holding test credentials (step 7 recorded, not terminated or rejected) get the test policy step 7
now grants: their request letter's services, fields and sources, 1,000 records a day, 10 a second; purposes and
legal bases of their production policy when they have one (letters before this revision named no purpose codes).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ENVIRONMENTS = "environment IN ('test', 'production')"
BACKFILL = """
INSERT INTO policy_version (system_id, version, services, fields, purposes, legal_bases, daily_quota,
                            rate_per_second, must_name_end_user, sources, environment, valid_from, created_by)
SELECT DISTINCT ON (s.system_id) s.system_id, 1,
       ARRAY(SELECT jsonb_array_elements_text(coalesce(letter.data -> 'services', '[]'))),
       ARRAY(SELECT jsonb_array_elements_text(coalesce(letter.data -> 'fields', '[]'))),
       coalesce(p.purposes, '{}'), coalesce(p.legal_bases, '{}'), 1000, 10, false,
       ARRAY(SELECT jsonb_array_elements_text(coalesce(letter.data -> 'sources', '[]'))),
       'test', now(), 'migration 0016'
FROM information_system s
JOIN onboarding_request r ON r.system_id = s.system_id
JOIN onboarding_step letter ON letter.request_id = r.request_id AND letter.step_no = 1
JOIN onboarding_step seven ON seven.request_id = r.request_id AND seven.step_no = 7
LEFT JOIN policy_version p ON p.system_id = s.system_id AND p.valid_to IS NULL AND p.environment = 'production'
WHERE s.status NOT IN ('terminated', 'rejected')
ORDER BY s.system_id, r.request_id DESC
"""


def upgrade() -> None:
    op.create_table(
        "sandbox_resident",
        sa.Column("resident_id", sa.BigInteger,
                  sa.ForeignKey("resident.resident_id", name="fk_sandbox_resident_resident_id_resident"),
                  nullable=False),
        sa.Column("load_key", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("resident_id", name="pk_sandbox_resident"),
    )
    op.add_column("policy_version", sa.Column("environment", sa.Text, nullable=False,
                                              server_default=sa.text("'production'")))
    op.create_check_constraint(op.f("ck_policy_version_environment"), "policy_version", ENVIRONMENTS)
    op.drop_index("uq_policy_version_system_id_version", table_name="policy_version")
    op.drop_index("uq_policy_version_open", table_name="policy_version")
    op.create_index("uq_policy_version_system_id_environment_version", "policy_version",
                    ["system_id", "environment", "version"], unique=True)
    op.create_index("uq_policy_version_open", "policy_version", ["system_id", "environment"], unique=True,
                    postgresql_where=sa.text("valid_to IS NULL"))
    op.add_column("quota_usage", sa.Column("environment", sa.Text, nullable=False,
                                           server_default=sa.text("'production'")))
    op.create_check_constraint(op.f("ck_quota_usage_environment"), "quota_usage", ENVIRONMENTS)
    op.drop_constraint("pk_quota_usage", "quota_usage", type_="primary")
    op.create_primary_key("pk_quota_usage", "quota_usage", ["system_id", "environment", "day"])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute("DELETE FROM quota_usage WHERE environment <> 'production'")
    op.drop_constraint("pk_quota_usage", "quota_usage", type_="primary")
    op.create_primary_key("pk_quota_usage", "quota_usage", ["system_id", "day"])
    op.drop_constraint(op.f("ck_quota_usage_environment"), "quota_usage", type_="check")
    op.drop_column("quota_usage", "environment")
    op.execute("DELETE FROM policy_version WHERE environment <> 'production'")
    op.drop_index("uq_policy_version_open", table_name="policy_version")
    op.drop_index("uq_policy_version_system_id_environment_version", table_name="policy_version")
    op.create_index("uq_policy_version_system_id_version", "policy_version", ["system_id", "version"],
                    unique=True)
    op.create_index("uq_policy_version_open", "policy_version", ["system_id"], unique=True,
                    postgresql_where=sa.text("valid_to IS NULL"))
    op.drop_constraint(op.f("ck_policy_version_environment"), "policy_version", type_="check")
    op.drop_column("policy_version", "environment")
    op.drop_table("sandbox_resident")
