"""Staging table of verify jobs: one row per submitted line, its input and (once verified) its result."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base


class ExchangeJobItem(Base):
    __tablename__ = "exchange_job_item"

    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("job.job_id", ondelete="CASCADE"), primary_key=True)
    line_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    personal_id: Mapped[str] = mapped_column(Text)
    input: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
