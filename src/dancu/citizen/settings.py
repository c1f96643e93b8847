"""Settings of the citizen channels, read from ``DANCU_CITIZEN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CitizenSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_CITIZEN_", env_file=".env", extra="ignore")

    sms_client_system: str = Field(default="VN/GOV/BCA/SMS-GATEWAY",
                                   description="Client-system id written in the exchange log for SMS look-ups.")
    portal_client_system: str = Field(default="VN/GOV/BCA/CITIZEN-PORTAL",
                                      description="Client-system id written in the exchange log for portal views.")
    sms_webhook_secret: str = Field(default="dancu-development-sms-secret-change-me",
                                    description="Shared secret of the aggregator webhook's HMAC-SHA256 signature.")
    sms_rate_limit: int = Field(default=5, description="Look-ups allowed per sender number per window.")
    sms_rate_window_s: int = Field(default=600, description="Rate-limit window in seconds.")
    sms_short_code: str = Field(default="8288", description="The short code replies are sent from.")
    cookie_secure: bool = Field(default=False, description="Mark portal cookies Secure (set when behind TLS).")
    session_minutes: int = 30
    code_minutes: int = 5
    code_attempts: int = 5
    smpp_host: str = "127.0.0.1"
    smpp_port: int = 2775
    smpp_system_id: str = "dancu"
    smpp_password: str = "secret"


@lru_cache
def get_citizen_settings() -> CitizenSettings:
    return CitizenSettings()
