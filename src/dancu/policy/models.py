"""Tables of policy: versioned per-system policies and the daily quota counters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base

ENVIRONMENTS = "environment IN ('test', 'production')"


class PolicyVersion(Base):
    """One version of a system's policy, in force from ``valid_from`` until ``valid_to`` (open when null), for
    the calls of one ``environment``: ``production`` (production credentials, every resident but the sandbox's)
    or ``test`` (test credentials, sandbox residents only).  Versions are numbered per system and environment."""

    __tablename__ = "policy_version"
    __table_args__ = (
        Index("uq_policy_version_system_id_environment_version", "system_id", "environment", "version",
              unique=True),
        Index("uq_policy_version_open", "system_id", "environment", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        CheckConstraint(ENVIRONMENTS, name="environment"),
    )

    policy_version_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    system_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("information_system.system_id"))
    version: Mapped[int] = mapped_column(Integer)
    services: Mapped[list[str]] = mapped_column(ARRAY(Text))
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text))
    purposes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    legal_bases: Mapped[list[str]] = mapped_column(ARRAY(Text))
    daily_quota: Mapped[int] = mapped_column(BigInteger)
    rate_per_second: Mapped[int] = mapped_column(Integer)
    must_name_end_user: Mapped[bool] = mapped_column(Boolean)
    # sector sources the system may push enrichment data for (service enrichment_push); empty: none
    sources: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    environment: Mapped[str] = mapped_column(Text, server_default=text("'production'"))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class QuotaUsage(Base):
    """Records counted per system, environment and day (Asia/Ho_Chi_Minh calendar day), bumped by an upsert:
    test calls count against the test policy's quota, never against the production one."""

    __tablename__ = "quota_usage"
    __table_args__ = (CheckConstraint(ENVIRONMENTS, name="environment"),)

    system_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    environment: Mapped[str] = mapped_column(Text, primary_key=True, server_default=text("'production'"))
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger)
