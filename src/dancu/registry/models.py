"""Resident records (sổ đăng ký dân cư), households, personal ID numbers and the change history.

Distribution key: every per-resident table carries ``resident_id`` so that a Citus-style
deployment co-locates a resident's row, its history and its number.  ``personal_id_number``
is keyed by the number itself (its own distribution key) and is what guarantees uniqueness
across shards.  See docs/architecture.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    Sequence,
    SmallInteger,
    Text,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, column_property, mapped_column

from dancu.db.base import Base

RESIDENT_ID_SEQ = Sequence("resident_id_seq", cache=100)
HOUSEHOLD_ID_SEQ = Sequence("household_id_seq", cache=100)


class PersonalIdNumber(Base):
    """Every personal ID number ever issued or imported, and whom it belongs to."""

    __tablename__ = "personal_id_number"

    number: Mapped[str] = mapped_column(Text, primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(Text)  # issued | imported
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PersonalIdSequence(Base):
    """Next sequence number per 6-digit prefix; the sequence is scrambled into the 6 random digits."""

    __tablename__ = "personal_id_sequence"

    prefix: Mapped[str] = mapped_column(Text, primary_key=True)
    next_seq: Mapped[int] = mapped_column(Integer)


class Household(Base):
    __tablename__ = "household"

    household_id: Mapped[int] = mapped_column(
        BigInteger, HOUSEHOLD_ID_SEQ, primary_key=True, server_default=HOUSEHOLD_ID_SEQ.next_value()
    )
    head_resident_id: Mapped[int | None] = mapped_column(BigInteger)
    residence_file_number: Mapped[str | None] = mapped_column(Text)
    province_code: Mapped[str] = mapped_column(Text)
    commune_code: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ResidentSectorId(Base):
    """A resident's identifier in a sector database (health insurance card, tax code…), with its provenance.

    Narrow on purpose: linking millions of sector identifiers writes these small rows, not the wide
    ``resident`` row with its indexes.  ``job_id``/``line_no`` say which synchronisation line set it.
    """

    __tablename__ = "resident_sector_id"

    resident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sector_key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    line_no: Mapped[int | None] = mapped_column(BigInteger)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ResidentSectorIdHistory(Base):
    """A superseded sector identifier: the value, its provenance, and when, by whom and why it was replaced
    (or removed).  Written only when a value changes; a first link is recorded by its row alone."""

    __tablename__ = "resident_sector_id_history"

    resident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    history_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    sector_key: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    line_no: Mapped[int | None] = mapped_column(BigInteger)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced_by: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class Resident(Base):
    """Current state of one resident: the fields of Luật Căn cước 2023, Điều 9."""

    __tablename__ = "resident"
    __table_args__ = (
        # Covering: a check of a record against its resident by ID reads the index alone (migration 0014).
        Index("uq_resident_personal_id", "personal_id", unique=True,
              postgresql_include=["resident_id", "full_name", "dob_year", "dob_month", "dob_day", "sex", "death_kind"]),
        Index("ix_resident_name_folded_trgm", "name_folded", postgresql_using="gin",
              postgresql_ops={"name_folded": "gin_trgm_ops"}),
        Index("ix_resident_dob", "dob_year", "dob_month", "dob_day"),
        Index("ix_resident_permanent_place", "permanent_province", "permanent_commune"),
        Index("ix_resident_phone", "phone"),
        Index("ix_resident_household_id", "household_id"),
    )

    resident_id: Mapped[int] = mapped_column(
        BigInteger, RESIDENT_ID_SEQ, primary_key=True, server_default=RESIDENT_ID_SEQ.next_value()
    )
    personal_id: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    other_name: Mapped[str | None] = mapped_column(Text)
    name_folded: Mapped[str] = mapped_column(Text)
    dob_year: Mapped[int] = mapped_column(SmallInteger)
    dob_month: Mapped[int | None] = mapped_column(SmallInteger)
    dob_day: Mapped[int | None] = mapped_column(SmallInteger)
    sex: Mapped[str] = mapped_column(Text)
    birth_place: Mapped[str | None] = mapped_column(Text)
    birth_place_province: Mapped[str | None] = mapped_column(Text)
    birth_registration_province: Mapped[str | None] = mapped_column(Text)
    birth_registration_commune: Mapped[str | None] = mapped_column(Text)
    birth_registration_place: Mapped[str | None] = mapped_column(Text)
    home_town: Mapped[str | None] = mapped_column(Text)
    home_town_province: Mapped[str | None] = mapped_column(Text)
    ethnic_code: Mapped[str | None] = mapped_column(Text)
    religion_code: Mapped[str | None] = mapped_column(Text)
    nationality_code: Mapped[str] = mapped_column(Text)
    blood_type: Mapped[str | None] = mapped_column(Text)
    old_id_number: Mapped[str | None] = mapped_column(Text)
    id_cards: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    relatives: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    permanent_province: Mapped[str | None] = mapped_column(Text)
    permanent_commune: Mapped[str | None] = mapped_column(Text)
    permanent_address: Mapped[str | None] = mapped_column(Text)
    temporary_province: Mapped[str | None] = mapped_column(Text)
    temporary_commune: Mapped[str | None] = mapped_column(Text)
    temporary_address: Mapped[str | None] = mapped_column(Text)
    current_province: Mapped[str | None] = mapped_column(Text)
    current_commune: Mapped[str | None] = mapped_column(Text)
    current_address: Mapped[str | None] = mapped_column(Text)
    temporary_absence: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    residence_file_number: Mapped[str | None] = mapped_column(Text)
    marital_status: Mapped[str | None] = mapped_column(Text)
    household_id: Mapped[int | None] = mapped_column(BigInteger)
    relation_to_head: Mapped[str | None] = mapped_column(Text)
    death_kind: Mapped[str | None] = mapped_column(Text)  # dead | missing
    death_year: Mapped[int | None] = mapped_column(SmallInteger)
    death_month: Mapped[int | None] = mapped_column(SmallInteger)
    death_day: Mapped[int | None] = mapped_column(SmallInteger)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Read with the row from the narrow table (read-only here: written by repository.write_sector_ids and by
    # synchronisation): {sector_key: value} and {"sector_ids.<key>": {source, updated_at, job_id, line_no}}.
    sector_ids: Mapped[dict[str, str]] = column_property(
        select(func.coalesce(func.jsonb_object_agg(ResidentSectorId.sector_key, ResidentSectorId.value),
                             literal({}, JSONB)))
        .where(ResidentSectorId.resident_id == resident_id).correlate_except(ResidentSectorId).scalar_subquery()
    )
    sector_provenance: Mapped[dict[str, Any]] = column_property(
        select(func.coalesce(func.jsonb_object_agg(
            literal_column("'sector_ids.'") + ResidentSectorId.sector_key,
            func.jsonb_build_object(literal_column("'source'"), ResidentSectorId.source,
                                    literal_column("'updated_at'"), ResidentSectorId.linked_at,
                                    literal_column("'job_id'"), ResidentSectorId.job_id,
                                    literal_column("'line_no'"), ResidentSectorId.line_no)),
            literal({}, JSONB)))
        .where(ResidentSectorId.resident_id == resident_id).correlate_except(ResidentSectorId).scalar_subquery()
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ResidentChange(Base):
    """One change to a resident: who or what made it, when, why, and each field's old and new value.

    ``changes`` maps field → [old, new]; a creation row has ``changes`` null (the record's
    first state is recovered by undoing later changes from the current row).
    """

    __tablename__ = "resident_change"

    resident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

