"""Who pushed which batch (migration 0013): the pushing system may read the job, nobody else through the
exchange.  The same batch pushed by two systems that both own its source is one job with two rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base


class SyncPush(Base):
    __tablename__ = "sync_push"

    job_key: Mapped[str] = mapped_column(Text, primary_key=True)  # sync:<source>:<sha256>, as job.job_key
    system_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("information_system.system_id"), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    records: Mapped[int] = mapped_column(Integer)
    pushes: Mapped[int] = mapped_column(Integer, server_default="1")
    first_pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
