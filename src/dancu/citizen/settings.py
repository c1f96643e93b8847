"""Settings of the citizen channels, read from ``DANCU_CITIZEN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
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
    smpp_system_type: str = Field(default="", description="system_type sent in bind_transceiver (SMSC-specific).")
    smpp_source_addr: str | None = Field(default=None, description="Source address of replies (default: the "
                                         "short code).")
    smpp_enquire_link_s: float = Field(default=30.0, description="Seconds between enquire_link keep-alives.")
    smpp_reconnect_max_s: float = Field(default=60.0, description="Longest wait between reconnection attempts.")
    # Electronic identification (VNeID) by OpenID Connect; disabled unless issuer, client id and redirect URI are set.
    oidc_issuer: str | None = Field(default=None, description="Issuer URL of the e-ID provider (discovery at "
                                    "<issuer>/.well-known/openid-configuration).")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_uri: str | None = Field(default=None, description="This portal's callback, registered at the "
                                          "provider: https://<host>/citizen/portal/eid/callback.")
    oidc_scope: str = "openid profile vneid"
    oidc_personal_id_claim: str = Field(default="personal_id", description="ID-token claim with the personal ID.")
    oidc_level_claim: str = Field(default="acr", description="ID-token claim carrying the assurance level.")
    oidc_levels: dict[str, int] = Field(
        default={"urn:vn:vneid:loa:1": 1, "urn:vn:vneid:loa:2": 2},
        description="Values of the level claim and the level (1 or 2) each means; any other value is refused.")
    oidc_leeway_s: int = Field(default=60, description="Clock skew allowed on exp/iat of ID tokens.")
    oidc_timeout_s: float = 10.0

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_redirect_uri)


@lru_cache
def get_citizen_settings() -> CitizenSettings:
    return CitizenSettings()
