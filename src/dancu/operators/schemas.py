"""Shapes of the operator-accounts API (what the OpenAPI document shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from dancu.operators.domain import USERNAME_PATTERN, Role

NO_NUL = r"^[^\x00]*$"
Username = Annotated[str, Field(pattern=USERNAME_PATTERN, description="Tên đăng nhập — a-z, 0-9, . _ -")]
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]


class OperatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    full_name: Text = Field(description="Họ tên cán bộ")
    unit: Text = Field(description="Đơn vị công tác — unit, e.g. 'C06 — Phòng 3'")
    roles: list[Role] = Field(min_length=1, max_length=len(Role), description="Vai trò — least privilege")


class RolesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(max_length=len(Role), description="The full new set of roles (may be empty)")


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int | None = Field(default=None, ge=1, le=3650, description="Lifetime in days (default from settings)")
    note: str | None = Field(default=None, max_length=200, pattern=NO_NUL, description="What the token is for")


class TokenView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    token_id: int
    hint: str = Field(description="Last four characters of the token, to tell tokens apart")
    note: str | None
    created_at: datetime
    created_by: str
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


class IssuedToken(BaseModel):
    token: str = Field(description="The token itself: shown this once, never stored by dancu")
    details: TokenView


class OperatorView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    full_name: str
    unit: str
    roles: list[Role]
    active: bool
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
    disabled_by: str | None
    tokens: list[TokenView] = []


class MeView(BaseModel):
    username: str
    full_name: str
    unit: str
    roles: list[Role]
    token_id: int
    token_expires_at: datetime
