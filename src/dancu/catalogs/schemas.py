"""Response models of the catalogue endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class CatalogSummary(BaseModel):
    name: str = Field(description="Catalogue name, e.g. province, ethnic_group")
    version: str = Field(description="Current version: load number and checksum prefix of the data file")
    source: str = Field(description="Where the codes come from (legal text or standard)")
    entry_count: int = Field(description="Entries in the data file of the current version")
    loaded_at: datetime


class MappingSummary(BaseModel):
    name: str = Field(description="Mapping name, e.g. province_63->province")
    version: str
    source: str
    pair_count: int
    loaded_at: datetime


class CatalogEntryOut(BaseModel):
    code: str
    name_vi: str = Field(description="Tên tiếng Việt")
    name_en: str | None = None
    parent_code: str | None = Field(None, description="For communes: the province code")
    valid_from: date
    valid_to: date | None = Field(None, description="Exclusive; null while the code is in force")
    attrs: dict[str, Any] = Field(default_factory=dict)


class CatalogOut(BaseModel):
    name: str
    version: str
    as_of: date = Field(description="Entries valid on this date")
    entries: list[CatalogEntryOut]


class MappingPair(BaseModel):
    from_code: str
    to_code: str
    note: str | None = None


class MappingOut(BaseModel):
    name: str
    version: str
    pairs: list[MappingPair]
