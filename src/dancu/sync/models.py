"""Tables of sector synchronisation: the per-chunk staging table and one outcome row per input record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, SmallInteger, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base


class SyncStage(Base):
    """A chunk's normalised records while its transaction runs (UNLOGGED: never needed after a crash,
    since the chunk is re-read from the file)."""

    __tablename__ = "sync_stage"
    __table_args__ = ({"prefixes": ["UNLOGGED"]},)

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    personal_id: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(Text)
    name_folded: Mapped[str | None] = mapped_column(Text)
    name_loose: Mapped[str | None] = mapped_column(Text)
    dob_year: Mapped[int | None] = mapped_column(SmallInteger)
    dob_month: Mapped[int | None] = mapped_column(SmallInteger)
    dob_day: Mapped[int | None] = mapped_column(SmallInteger)
    sex: Mapped[str | None] = mapped_column(Text)
    province: Mapped[str | None] = mapped_column(Text)
    sector_value: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    notes: Mapped[list[str] | None] = mapped_column(ARRAY(Text))


class SyncRecord(Base):
    """What became of one input record: linked, review, unmatched_id or rejected, with reasons and detail.

    ``detail`` explains the comparison (name, dob, sex, sector value) and, except for linked records, keeps
    the normalised record for the reviewer and for stage (b) demographic matching.
    """

    __tablename__ = "sync_record"
    __table_args__ = (
        Index("ix_sync_record_open_review", "job_id", "line_no", postgresql_where=text("review_state = 'open'")),
    )

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outcome: Mapped[str] = mapped_column(Text)  # linked | review | unmatched_id | rejected
    resident_id: Mapped[int | None] = mapped_column(BigInteger)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text))
    sector_value: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    review_state: Mapped[str | None] = mapped_column(Text)  # open | accepted | rejected (review outcomes only)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(Text)
