"""Settings, read from the environment (``DANCU_*``) and an optional ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL 15+ URL. When unset, an embedded PostgreSQL is started in data_dir/pg.",
    )
    data_dir: Path = Field(default=Path(".dancu"), description="Local folder for the embedded database.")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = 10
    id_number_key: str = Field(
        default="dancu-development-key-change-me",
        description="Secret that scrambles the random part of newly issued personal ID numbers.",
    )
    ledger_signing_key: str | None = Field(
        default=None,
        description="Ed25519 private key (base64 of the raw 32 bytes) that signs exchange-log tree heads. "
        "When unset, one is generated into data_dir/ledger-signing.key on first use.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
