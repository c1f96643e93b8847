"""ID-token validation of the e-ID relying party, with tokens signed here by real keys (the provider's HTTP
is an httpx MockTransport): signature, issuer, audience, expiry (by clock travel), nonce, algorithms,
key rotation, the personal-ID and level claims. The end-to-end flow runs against oidc-provider elsewhere."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from pydantic import SecretStr

from dancu.citizen.eid.oidc import OidcClient, OidcError
from dancu.citizen.settings import CitizenSettings

ISSUER = "https://vneid.example"
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NONCE = "n-0S6_WzA2Mj"


def _key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


class FakeProvider:
    """Discovery and JWKS over a MockTransport, counting key-set fetches."""

    def __init__(self, *keys: RSAKey) -> None:
        self.keys = list(keys)
        self.jwks_fetches = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks",
                                             "authorization_endpoint": f"{ISSUER}/auth",
                                             "token_endpoint": f"{ISSUER}/token"})
        self.jwks_fetches += 1
        return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})


def _settings(**overrides: Any) -> CitizenSettings:
    base: dict[str, Any] = {"oidc_issuer": ISSUER, "oidc_client_id": "dancu-portal",
                            "oidc_client_secret": SecretStr("s3cret"), "oidc_redirect_uri": "https://p/cb"}
    return CitizenSettings(**{**base, **overrides})


def _claims(**overrides: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "sub": "subject-1", "aud": "dancu-portal", "iat": int(NOW.timestamp()),
            "exp": int((NOW + timedelta(minutes=5)).timestamp()), "nonce": NONCE,
            "personal_id": "001085012345", "acr": "urn:vn:vneid:loa:2"}
    return {**base, **overrides}


def _token(key: Any, claims: dict[str, Any], alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid if hasattr(key, "kid") else None}, claims, key,
                      algorithms=[alg])


@pytest.fixture
def signing() -> RSAKey:
    return _key("k1")


@pytest.fixture
def provider(signing: RSAKey) -> FakeProvider:
    return FakeProvider(signing)


@pytest.fixture
def client(provider: FakeProvider) -> OidcClient:
    return OidcClient(_settings(), transport=httpx.MockTransport(provider.handle))


def test_a_good_token_gives_the_identity(client: OidcClient, signing: RSAKey) -> None:
    claims = client.validate(_token(signing, _claims()), NONCE, clock=lambda: NOW)
    identity = client.identity(claims)
    assert (identity.issuer, identity.subject, identity.personal_id, identity.level) == (
        ISSUER, "subject-1", "001085012345", 2)


@pytest.mark.parametrize("bad", [{"iss": "https://evil.example"}, {"aud": "another-client"},
                                 {"nonce": "replayed"}, {"exp": int((NOW - timedelta(minutes=2)).timestamp())}])
def test_wrong_claims_are_refused(client: OidcClient, signing: RSAKey, bad: dict[str, Any]) -> None:
    with pytest.raises(OidcError):
        client.validate(_token(signing, _claims(**bad)), NONCE, clock=lambda: NOW)


def test_expiry_by_clock_travel(client: OidcClient, signing: RSAKey) -> None:
    token = _token(signing, _claims())
    client.validate(token, NONCE, clock=lambda: NOW + timedelta(minutes=5, seconds=59))  # within the leeway
    with pytest.raises(OidcError):
        client.validate(token, NONCE, clock=lambda: NOW + timedelta(minutes=6, seconds=1))


def test_a_token_without_nonce_is_refused(client: OidcClient, signing: RSAKey) -> None:
    claims = _claims()
    del claims["nonce"]
    with pytest.raises(OidcError):
        client.validate(_token(signing, claims), NONCE, clock=lambda: NOW)


def test_a_token_signed_by_another_key_is_refused(client: OidcClient) -> None:
    with pytest.raises(OidcError):
        client.validate(_token(_key("k1"), _claims()), NONCE, clock=lambda: NOW)  # same kid, other key


def test_hmac_with_the_client_secret_and_alg_none_are_refused(client: OidcClient) -> None:
    hmac_key = OctKey.import_key("s3cret-s3cret-s3cret-s3cret-s3cret!")
    with pytest.raises(OidcError):
        client.validate(jwt.encode({"alg": "HS256"}, _claims(), hmac_key, algorithms=["HS256"]), NONCE,
                        clock=lambda: NOW)
    unsigned = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                        for part in ({"alg": "none"}, _claims())) + "."
    with pytest.raises(OidcError):
        client.validate(unsigned, NONCE, clock=lambda: NOW)


def test_a_rotated_key_is_fetched_once(client: OidcClient, provider: FakeProvider, signing: RSAKey) -> None:
    client.validate(_token(signing, _claims()), NONCE, clock=lambda: NOW)
    rotated = _key("k2")
    provider.keys.append(rotated)
    client.validate(_token(rotated, _claims()), NONCE, clock=lambda: NOW)
    assert provider.jwks_fetches == 2


@pytest.mark.parametrize("claims", [{"acr": "urn:vn:vneid:loa:3"}, {"acr": None}, {"personal_id": None},
                                    {"personal_id": 1085012345}])
def test_unknown_level_or_missing_personal_id_is_refused(client: OidcClient, claims: dict[str, Any]) -> None:
    with pytest.raises(OidcError):
        client.identity(_claims(**claims))


def test_a_custom_level_claim(provider: FakeProvider) -> None:
    custom = OidcClient(_settings(oidc_level_claim="vneid_level", oidc_levels={"1": 1, "2": 2}),
                        transport=httpx.MockTransport(provider.handle))
    assert custom.identity(_claims(vneid_level=1)).level == 1


def test_discovery_naming_another_issuer_is_refused(provider: FakeProvider) -> None:
    other = OidcClient(_settings(oidc_issuer="https://vneid.example/other"),
                       transport=httpx.MockTransport(provider.handle))
    with pytest.raises(OidcError):
        other.begin()


def test_the_authorization_request_uses_pkce_state_and_nonce(client: OidcClient) -> None:
    pending = client.begin()
    query = httpx.URL(pending.url).params
    assert query["code_challenge_method"] == "S256" and query["state"] == pending.state
    assert query["nonce"] == pending.nonce and query["code_challenge"] != pending.verifier
    assert query["acr_values"] == "urn:vn:vneid:loa:1 urn:vn:vneid:loa:2"


def test_disabled_unless_configured() -> None:
    assert not CitizenSettings(oidc_issuer=None).oidc_enabled
    with pytest.raises(OidcError):
        OidcClient(CitizenSettings(oidc_issuer=None))
