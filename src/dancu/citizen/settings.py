"""Settings of the citizen channels, read from ``DANCU_CITIZEN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

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
    sms_code_limit: int = Field(default=5, description="One-time codes the portal sends to one phone number per "
                                "rate-limit window (no SMS bombing through registration, login or recovery).")
    sms_short_code: str = Field(default="8288", description="The short code replies are sent from.")
    sms_webhook_tolerance_s: int = Field(default=300, description="Webhook requests whose X-Dancu-Timestamp is "
                                         "further than this from now are refused (replays).")
    sms_inbound_keep_s: int = Field(default=86400, description="How long the keys of inbound webhook messages "
                                    "are kept to refuse a repeated message_id.")
    # Outbound texts (the portal's one-time codes): a transactional outbox drained by a delivery worker.
    sms_delivery: Literal["smpp", "http", "outbox"] = Field(
        default="smpp", description="How the portal's texts leave: queued for the SMPP ESME (dancu citizen smpp), "
        "queued for the HTTP aggregator adapter (dancu citizen deliver), or 'outbox': kept in the table and never "
        "sent — development and demo only (dancu citizen outbox shows them).")
    sms_delivery_attempts: int = Field(default=6, description="Attempts before a text is given up (failed).")
    sms_delivery_backoff_s: float = Field(default=2.0, description="Wait before the first retry; doubles after "
                                          "each failed attempt.")
    sms_delivery_backoff_max_s: float = Field(default=60.0, description="Longest wait between attempts.")
    sms_delivery_lease_s: float = Field(default=30.0, description="A claimed text not acknowledged by the SMSC or "
                                        "gateway within this time is tried again (a worker that died holding it).")
    sms_delivery_poll_s: float = Field(default=1.0, description="How often a delivery worker looks for due texts.")
    sms_delivery_batch: int = Field(default=20, description="Texts claimed at a time (SMPP: the window of "
                                    "submit_sm awaiting their submit_sm_resp).")
    sms_http_url: str | None = Field(default=None, description="The aggregator's send endpoint (channel http).")
    sms_http_secret: SecretStr | None = Field(default=None, description="Shared secret of the HMAC-SHA256 "
                                              "signature on outbound requests (channel http).")
    sms_http_timeout_s: float = 10.0
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
