"""Connected systems and policy: organisations, systems, focal points, onboarding steps, credentials,
used client assertions, policy versions and quota counters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _id(name: str) -> "sa.Column[Any]":
    return sa.Column(name, sa.BigInteger, sa.Identity(), nullable=False)


def _at(name: str, nullable: bool = False, default: bool = True) -> "sa.Column[Any]":
    return sa.Column(name, sa.DateTime(timezone=True), server_default=NOW if default else None,
                     nullable=nullable)


def _text(name: str, nullable: bool = False) -> "sa.Column[Any]":
    return sa.Column(name, sa.Text, nullable=nullable)


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{column}"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    _organisations()
    _onboarding()
    _credentials()
    _policy()


def _organisations() -> None:
    op.create_table(
        "organisation", _id("org_id"), _text("instance"), _text("member_class"), _text("member_code"),
        _text("name"), _text("org_type"), _at("created_at"),
        sa.PrimaryKeyConstraint("org_id", name="pk_organisation"),
    )
    op.create_index("uq_organisation_member", "organisation", ["instance", "member_class", "member_code"],
                    unique=True)
    op.create_table(
        "information_system", _id("system_id"), sa.Column("org_id", sa.BigInteger, nullable=False),
        _text("identifier"), _text("subsystem_code"), _text("name"), _text("kind"), _text("status"),
        _text("connection_model", True), _text("via_platform", True),
        sa.Column("readiness", JSONB, nullable=False), _text("status_reason", True),
        _at("suspended_until", True, default=False), _at("status_changed_at"), _at("created_at"),
        sa.PrimaryKeyConstraint("system_id", name="pk_information_system"),
        sa.UniqueConstraint("identifier", name="uq_information_system_identifier"),
        _fk("org_id", "information_system", "organisation"),
    )
    op.create_index("ix_information_system_org_id", "information_system", ["org_id"])
    op.create_table(
        "system_status_change", _id("change_id"), sa.Column("system_id", sa.BigInteger, nullable=False),
        _text("status"), _text("actor"), _text("reason", True), _at("until", True, default=False),
        _at("changed_at"),
        sa.PrimaryKeyConstraint("change_id", name="pk_system_status_change"),
        _fk("system_id", "system_status_change", "information_system"),
    )
    op.create_index("ix_system_status_change_system_id", "system_status_change", ["system_id"])
    op.create_table(
        "focal_point", _id("focal_point_id"), sa.Column("org_id", sa.BigInteger, nullable=False),
        _text("name"), _text("position"), _text("function"), _text("phone"), _text("email"),
        sa.Column("published", sa.Boolean, nullable=False), _at("created_at"),
        sa.PrimaryKeyConstraint("focal_point_id", name="pk_focal_point"),
        _fk("org_id", "focal_point", "organisation"),
    )
    op.create_index("ix_focal_point_org_id", "focal_point", ["org_id"])


def _onboarding() -> None:
    op.create_table(
        "onboarding_request", _id("request_id"), sa.Column("system_id", sa.BigInteger, nullable=False),
        _text("state"), sa.Column("next_step", sa.Integer), _at("created_at"), _at("updated_at"),
        sa.PrimaryKeyConstraint("request_id", name="pk_onboarding_request"),
        _fk("system_id", "onboarding_request", "information_system"),
    )
    op.create_index("ix_onboarding_request_system_id", "onboarding_request", ["system_id"])
    op.create_table(
        "onboarding_step", sa.Column("request_id", sa.BigInteger, nullable=False),
        sa.Column("step_no", sa.Integer, nullable=False), _text("actor"), _at("recorded_at", default=False),
        sa.Column("documents", JSONB, nullable=False), _text("decision", True), _text("notes", True),
        sa.Column("data", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("request_id", "step_no", name="pk_onboarding_step"),
        _fk("request_id", "onboarding_step", "onboarding_request"),
    )


def _credentials() -> None:
    op.create_table(
        "system_credential", _id("credential_id"), sa.Column("system_id", sa.BigInteger, nullable=False),
        _text("kid"), _text("kind"), _text("method"), sa.Column("public_jwk", JSONB),
        _text("cert_thumbprint", True), _text("created_by"), _at("created_at"), _text("revoked_by", True),
        _at("revoked_at", True, default=False),
        sa.PrimaryKeyConstraint("credential_id", name="pk_system_credential"),
        _fk("system_id", "system_credential", "information_system"),
    )
    op.create_index("uq_system_credential_system_id_kid", "system_credential", ["system_id", "kid"], unique=True)
    op.create_index("ix_system_credential_cert_thumbprint", "system_credential", ["cert_thumbprint"])
    op.create_table(
        "used_assertion", sa.Column("system_id", sa.BigInteger, nullable=False), _text("jti"),
        _at("expires_at", default=False),
        sa.PrimaryKeyConstraint("system_id", "jti", name="pk_used_assertion"),
    )
    op.create_index("ix_used_assertion_expires_at", "used_assertion", ["expires_at"])


def _policy() -> None:
    op.create_table(
        "policy_version", _id("policy_version_id"), sa.Column("system_id", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *[sa.Column(name, ARRAY(sa.Text), nullable=False)
          for name in ("services", "fields", "purposes", "legal_bases")],
        sa.Column("daily_quota", sa.BigInteger, nullable=False),
        sa.Column("rate_per_second", sa.Integer, nullable=False),
        sa.Column("must_name_end_user", sa.Boolean, nullable=False),
        _at("valid_from", default=False), _at("valid_to", True, default=False), _text("created_by"),
        _at("created_at"),
        sa.PrimaryKeyConstraint("policy_version_id", name="pk_policy_version"),
        _fk("system_id", "policy_version", "information_system"),
    )
    op.create_index("uq_policy_version_system_id_version", "policy_version", ["system_id", "version"],
                    unique=True)
    op.create_index("uq_policy_version_open", "policy_version", ["system_id"], unique=True,
                    postgresql_where=sa.text("valid_to IS NULL"))
    op.create_table(
        "quota_usage", sa.Column("system_id", sa.BigInteger, nullable=False),
        sa.Column("day", sa.Date, nullable=False), sa.Column("used", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("system_id", "day", name="pk_quota_usage"),
    )


def downgrade() -> None:
    for table in ("quota_usage", "policy_version", "used_assertion", "system_credential", "onboarding_step",
                  "onboarding_request", "focal_point", "system_status_change", "information_system",
                  "organisation"):
        op.drop_table(table)
