"""Resident records (sổ đăng ký dân cư), households, personal ID numbers and the change history.

Distribution key: every per-resident table carries ``resident_id`` so that a Citus-style
deployment co-locates a resident's row, its history and its number.  ``personal_id_number``
is keyed by the number itself (its own distribution key) and is what guarantees uniqueness
across shards.  See docs/architecture.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, Sequence, SmallInteger, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

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


class Resident(Base):
    """Current state of one resident: the fields of Luật Căn cước 2023, Điều 9."""

    __tablename__ = "resident"
    __table_args__ = (
        Index("uq_resident_personal_id", "personal_id", unique=True),
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
    sector_ids: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
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
