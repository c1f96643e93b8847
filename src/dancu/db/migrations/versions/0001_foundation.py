"""Foundation: catalogues, registry, personal ID numbers, households, history, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _timestamp(name: str, nullable: bool = False) -> "sa.Column[object]":
    return sa.Column(name, sa.DateTime(timezone=True), server_default=None if nullable else NOW,
                     nullable=nullable)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _catalogs()
    _registry()
    _jobs()


def _catalogs() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("version_id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("catalog", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("checksum", sa.Text, nullable=False),
        sa.Column("entry_count", sa.Integer, nullable=False),
        _timestamp("loaded_at"),
        sa.PrimaryKeyConstraint("version_id", name="pk_catalog_version"),
        sa.UniqueConstraint("catalog", "version", name="uq_catalog_version_catalog_version"),
    )
    op.create_index("ix_catalog_version_catalog", "catalog_version", ["catalog"])
    op.create_table(
        "catalog_entry",
        sa.Column("catalog", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text),
        sa.Column("parent_code", sa.Text),
        sa.Column("attrs", JSONB, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("catalog", "code", "valid_from", name="pk_catalog_entry"),
        sa.ForeignKeyConstraint(["version_id"], ["catalog_version.version_id"],
                                name="fk_catalog_entry_version_id_catalog_version"),
    )
    op.create_table(
        "catalog_mapping",
        sa.Column("mapping", sa.Text, nullable=False),
        sa.Column("from_code", sa.Text, nullable=False),
        sa.Column("to_code", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("mapping", "from_code", "to_code", name="pk_catalog_mapping"),
    )


def _registry() -> None:
    op.execute("CREATE SEQUENCE resident_id_seq CACHE 100")
    op.execute("CREATE SEQUENCE household_id_seq CACHE 100")
    op.create_table(
        "personal_id_number",
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("resident_id", sa.BigInteger),
        sa.Column("origin", sa.Text, nullable=False),
        _timestamp("issued_at"),
        sa.PrimaryKeyConstraint("number", name="pk_personal_id_number"),
    )
    op.create_table(
        "personal_id_sequence",
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("next_seq", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("prefix", name="pk_personal_id_sequence"),
    )
    op.create_table(
        "household",
        sa.Column("household_id", sa.BigInteger, server_default=sa.text("nextval('household_id_seq')"),
                  nullable=False),
        sa.Column("head_resident_id", sa.BigInteger),
        sa.Column("residence_file_number", sa.Text),
        sa.Column("province_code", sa.Text, nullable=False),
        sa.Column("commune_code", sa.Text),
        sa.Column("address", sa.Text),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("household_id", name="pk_household"),
    )
    text_columns = [
        "other_name", "birth_place", "birth_place_province", "birth_registration_province",
        "birth_registration_commune", "birth_registration_place", "home_town", "home_town_province",
        "ethnic_code", "religion_code",
    ]
    op.create_table(
        "resident",
        sa.Column("resident_id", sa.BigInteger, server_default=sa.text("nextval('resident_id_seq')"),
                  nullable=False),
        sa.Column("personal_id", sa.Text, nullable=False),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("name_folded", sa.Text, nullable=False),
        sa.Column("dob_year", sa.SmallInteger, nullable=False),
        sa.Column("dob_month", sa.SmallInteger),
        sa.Column("dob_day", sa.SmallInteger),
        sa.Column("sex", sa.Text, nullable=False),
        *[sa.Column(name, sa.Text) for name in text_columns],
        sa.Column("nationality_code", sa.Text, nullable=False),
        sa.Column("blood_type", sa.Text),
        sa.Column("old_id_number", sa.Text),
        sa.Column("id_cards", JSONB, nullable=False),
        sa.Column("relatives", JSONB, nullable=False),
        *[sa.Column(f"{kind}_{part}", sa.Text)
          for kind in ("permanent", "temporary", "current") for part in ("province", "commune", "address")],
        sa.Column("temporary_absence", JSONB),
        sa.Column("residence_file_number", sa.Text),
        sa.Column("marital_status", sa.Text),
        sa.Column("household_id", sa.BigInteger),
        sa.Column("relation_to_head", sa.Text),
        sa.Column("death_kind", sa.Text),
        sa.Column("death_year", sa.SmallInteger),
        sa.Column("death_month", sa.SmallInteger),
        sa.Column("death_day", sa.SmallInteger),
        sa.Column("phone", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("sector_ids", JSONB, nullable=False),
        sa.Column("provenance", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("resident_id", name="pk_resident"),
    )
    op.create_index("uq_resident_personal_id", "resident", ["personal_id"], unique=True)
    op.create_index("ix_resident_name_folded_trgm", "resident", ["name_folded"], postgresql_using="gin",
                    postgresql_ops={"name_folded": "gin_trgm_ops"})
    op.create_index("ix_resident_dob", "resident", ["dob_year", "dob_month", "dob_day"])
    op.create_index("ix_resident_permanent_place", "resident", ["permanent_province", "permanent_commune"])
    op.create_index("ix_resident_phone", "resident", ["phone"])
    op.create_index("ix_resident_household_id", "resident", ["household_id"])
    op.create_table(
        "resident_change",
        sa.Column("resident_id", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _timestamp("recorded_at"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("changes", JSONB),
        sa.PrimaryKeyConstraint("resident_id", "version", name="pk_resident_change"),
    )


def _jobs() -> None:
    op.create_table(
        "job",
        sa.Column("job_id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("job_key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("done", sa.BigInteger, nullable=False),
        sa.Column("checkpoint", JSONB, nullable=False),
        sa.Column("report", JSONB, nullable=False),
        sa.Column("error", sa.Text),
        _timestamp("started_at"),
        _timestamp("updated_at"),
        _timestamp("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_job"),
        sa.UniqueConstraint("job_key", name="uq_job_job_key"),
    )


def downgrade() -> None:
    for table in ("job", "resident_change", "resident", "household", "personal_id_sequence",
                  "personal_id_number", "catalog_mapping", "catalog_entry", "catalog_version"):
        op.drop_table(table)
    op.execute("DROP SEQUENCE IF EXISTS household_id_seq")
    op.execute("DROP SEQUENCE IF EXISTS resident_id_seq")
