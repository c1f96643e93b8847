"""Bodies of the sync API (the OpenAPI document is made from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ReviewItem(BaseModel):
    id: str = Field(description="'<job_id>-<line_no>'")
    job_id: int
    line_no: int
    source: str
    sector_key: str
    resident_id: int | None
    sector_value: str | None
    reasons: list[str]
    detail: dict[str, Any]
    state: str
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    note: str | None = None


class ReviewPage(BaseModel):
    items: list[ReviewItem]
    limit: int
    offset: int
    has_more: bool


class ReviewDecision(BaseModel):
    note: str | None = Field(None, max_length=1000, pattern=r"^[^\x00]*$")


class JobReport(BaseModel):
    job_id: int
    job_key: str
    source: str
    file: str | None = Field(description="The input file (a pushed batch: its spool file); none for a job "
                                         "recorded without one")
    state: str
    records: int
    outcomes: dict[str, int]
    reasons: dict[str, int]
    seconds: float
    records_per_second: float
    started_at: datetime
    finished_at: datetime | None
    checkpoint: dict[str, Any]
