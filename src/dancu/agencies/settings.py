"""Settings of credentials and tokens (``DANCU_*`` like the rest), kept beside the code that uses them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AgencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANCU_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".dancu"), description="Where a generated token-signing key is kept.")
    token_signing_key: str | None = Field(
        default=None,
        description="Ed25519 private key (base64 of the raw 32 bytes) that signs access tokens. When unset, "
        "one is generated into data_dir/token-signing.key on first use.",
    )
    token_endpoint_url: str | None = Field(
        default=None,
        description="Public URL of POST /oauth/token, the only 'aud' accepted in client assertions. When unset, "
        "the URL the request arrived on (set it behind a proxy).",
    )
    access_token_seconds: int = Field(default=300, description="Lifetime of access tokens.")
    max_assertion_seconds: int = Field(default=300, description="Longest exp - iat allowed in an assertion.")
    mtls_thumbprint_header: str | None = Field(
        default=None,
        description="Header in which the TLS terminator passes the SHA-256 thumbprint of the verified client "
        "certificate (hex or base64url). Unset disables certificate-bound credentials; set it only when the "
        "terminator strips this header from client requests.",
    )


@lru_cache
def get_agency_settings() -> AgencySettings:
    return AgencySettings()
