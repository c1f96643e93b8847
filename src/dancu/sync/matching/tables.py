"""Tables of demographic matching: blocking keys per resident and the per-source model (migration 0012)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base


class ResidentMatchKey(Base):
    """One blocking key of one resident; ``key`` is the 64-bit hash of the key text (see ``blocking``)."""

    __tablename__ = "resident_match_key"
    __table_args__ = (Index("ix_resident_match_key_resident_id", "resident_id"),)

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    resident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class MatchWeights(Base):
    """The Fellegi–Sunter model of one source: m/u per comparison level, thresholds (``model.Model`` as JSON)."""

    __tablename__ = "match_weights"

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    model: Mapped[dict[str, Any]] = mapped_column(JSONB)
    trained_pairs: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
