"""Settings of enrichment pushes (``DANCU_*`` like the rest), kept beside the code that uses them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PushSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".dancu"), description="Local data folder (pushed batches go under push/).")
    push_dir: Path | None = Field(
        default=None, description="Where pushed batches are kept (<source>/<sha256>.jsonl); default data_dir/push.")
    sync_sources: Path | None = Field(
        default=None, description="TOML file declaring sector sources beyond the built-in ones, as "
        "`dancu sync run --sources` takes; the exchange and step 9 of onboarding accept these too.")

    def directory(self) -> Path:
        return self.push_dir or self.data_dir / "push"


@lru_cache
def get_push_settings() -> PushSettings:
    return PushSettings()
