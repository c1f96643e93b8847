"""Shared catalogues (dữ liệu danh mục dùng chung): versioned code lists with validity dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Identity, Integer, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base


class CatalogVersion(Base):
    """One load of one catalogue's data file; a changed file makes a new version."""

    __tablename__ = "catalog_version"
    __table_args__ = (UniqueConstraint("catalog", "version"),)

    version_id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    catalog: Mapped[str] = mapped_column(Text, index=True)
    version: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(Text)
    entry_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CatalogEntry(Base):
    """A code in a catalogue, valid from ``valid_from`` until ``valid_to`` (exclusive, open when null)."""

    __tablename__ = "catalog_entry"

    catalog: Mapped[str] = mapped_column(Text, primary_key=True)
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(Text)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.version_id"))


class CatalogMapping(Base):
    """An explicit mapping between two catalogues (old 63 provinces → 34; ethnic codes 1979 → 2008)."""

    __tablename__ = "catalog_mapping"

    mapping: Mapped[str] = mapped_column(Text, primary_key=True)
    from_code: Mapped[str] = mapped_column(Text, primary_key=True)
    to_code: Mapped[str] = mapped_column(Text, primary_key=True)
    note: Mapped[str | None] = mapped_column(Text)
