"""Settings of the exchange API (``DANCU_*`` like the rest), kept beside the code that uses them."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dancu.agencies.identifiers import InvalidIdentifier, parse_system


class ExchangeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_", env_file=".env", extra="ignore")

    xroad_provider: str = Field(
        default="VN/GOV/BCA/CSDLQG-DC",
        description="This deployment's own X-Road identifier (INSTANCE/CLASS/CODE/SUBSYSTEM) as a service "
        "provider: the only one the X-Road path style /r1/{instance}/{class}/{code}/{subsystem}/... accepts.",
    )
    max_job_upload_bytes: int = Field(
        default=1024**3, ge=1024 * 1024,
        description="Largest verify-job upload (JSON Lines or CSV, streamed into the staging table, never held "
        "in memory): 1 GiB is about ten million claims of a hundred bytes.",
    )

    @field_validator("xroad_provider")
    @classmethod
    def _identifier(cls, value: str) -> str:
        try:
            return str(parse_system(value.strip()))
        except InvalidIdentifier as error:
            raise ValueError(f"DANCU_XROAD_PROVIDER: {error}") from None


@lru_cache
def get_exchange_settings() -> ExchangeSettings:
    return ExchangeSettings()
