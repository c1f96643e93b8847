"""Settings of operator tokens (``DANCU_OPERATOR_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_OPERATOR_", env_file=".env", extra="ignore")

    token_days: int = Field(default=30, ge=1, description="Default lifetime of a new operator token, in days.")
    max_token_days: int = Field(default=365, ge=1, description="Longest lifetime an operator token may be given.")


@lru_cache
def get_operator_settings() -> OperatorSettings:
    return OperatorSettings()
