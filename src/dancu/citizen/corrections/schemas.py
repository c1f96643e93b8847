from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

NO_NUL = r"^[^\x00]*$"


class CorrectionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    request_id: int
    personal_id: str
    field: str
    current_value: str | None
    requested_value: str
    reason: str
    status: str
    answer: str | None
    answered_by: str | None
    created_at: datetime
    answered_at: datetime | None


class CorrectionAnswer(BaseModel):
    status: Literal["accepted", "rejected"]
    answer: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL)]
