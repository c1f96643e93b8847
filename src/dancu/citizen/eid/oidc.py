"""OpenID Connect relying party for the electronic identification system (VNeID), built on Authlib.

Authlib builds the authorization request and the PKCE challenge and validates the ID token's claims
(``CodeIDToken``); joserfc (Authlib's JOSE library) verifies the signature; HTTP goes through httpx directly,
because Authlib's httpx integration is deprecated in favour of another client library.

Authorization code flow with PKCE (S256), ``state`` and ``nonce``; the provider's metadata comes from its
discovery document and its keys from ``jwks_uri``. An ID token is accepted only if its signature verifies
with one of those keys (an unknown ``kid`` refetches the key set once), ``iss`` is the configured issuer,
``aud`` holds our client id, it has not expired (with ``oidc_leeway_s``), and ``nonce`` is ours.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from dancu.citizen.clock import Clock, system_clock
from dancu.citizen.settings import CitizenSettings

METADATA_TTL_S = 3600
ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")  # never "none", never HMAC with the client secret


class OidcError(Exception):
    """The login could not be completed; the reason is for the operator's log, never for the page."""


@dataclass(frozen=True)
class Pending:
    """What the browser's session keeps between the redirect to the provider and the callback."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    personal_id: str
    level: int
    claims: dict[str, Any]


class OidcClient:
    """One per process and issuer; thread-safe (metadata and keys cached, refreshed hourly)."""

    def __init__(self, settings: CitizenSettings, transport: httpx.BaseTransport | None = None) -> None:
        if not settings.oidc_enabled:
            raise OidcError("e-ID login is not configured")
        self.settings = settings
        self.issuer = str(settings.oidc_issuer).rstrip("/")
        self._transport = transport
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, Any] | None = None
        self._fetched = 0.0

    def _http(self) -> httpx.Client:
        return httpx.Client(transport=self._transport, timeout=self.settings.oidc_timeout_s)

    def _get_json(self, url: str) -> dict[str, Any]:
        with self._http() as http:
            response = http.get(url)
        if response.status_code != 200:
            raise OidcError(f"{url} answered {response.status_code}")
        body = response.json()
        if not isinstance(body, dict):
            raise OidcError(f"{url} did not answer a JSON object")
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched > METADATA_TTL_S:
                found = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                if found.get("issuer") != self.issuer:  # OpenID Connect Discovery 1.0 §4.3
                    raise OidcError("discovery document names another issuer")
                self._metadata, self._keys, self._fetched = found, None, time.monotonic()
            return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            if self._keys is None or refresh:
                self._keys = self._get_json(str(metadata["jwks_uri"]))
            return KeySet.import_key_set(self._keys)  # type: ignore[arg-type]

    def begin(self) -> Pending:
        """The provider's authorization URL and the single-use secrets the callback will check."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        extra = {}
        if self.settings.oidc_level_claim == "acr":  # asking for the levels we know makes the provider assert one
            extra["acr_values"] = " ".join(self.settings.oidc_levels)
        url = prepare_grant_uri(self.metadata()["authorization_endpoint"], self.settings.oidc_client_id, "code",
                                redirect_uri=self.settings.oidc_redirect_uri, scope=self.settings.oidc_scope,
                                state=state, nonce=nonce, code_challenge=create_s256_code_challenge(verifier),
                                code_challenge_method="S256", **extra)
        return Pending(str(url), state, nonce, verifier)

    def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        """The token response (client_secret_basic: id and secret form-encoded first, RFC 6749 §2.3.1)."""
        secret = self.settings.oidc_client_secret
        auth = httpx.BasicAuth(quote(str(self.settings.oidc_client_id), safe=""),
                               quote(secret.get_secret_value() if secret else "", safe=""))
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                "redirect_uri": str(self.settings.oidc_redirect_uri)}
        with self._http() as http:
            response = http.post(self.metadata()["token_endpoint"], data=form, auth=auth,
                                 headers={"accept": "application/json"})
        if response.status_code != 200:
            raise OidcError(f"token endpoint answered {response.status_code}")
        token = response.json()
        if not isinstance(token, dict):
            raise OidcError("token endpoint did not answer a JSON object")
        return token

    def finish(self, code: str, verifier: str, nonce: str, clock: Clock = system_clock) -> Identity:
        """Exchange ``code`` (with the PKCE verifier) and validate the ID token; the identity it asserts."""
        try:
            token = self._exchange(code, verifier)
        except (httpx.HTTPError, ValueError) as error:
            raise OidcError(f"token exchange failed: {type(error).__name__}") from error
        if "id_token" not in token:
            raise OidcError("no ID token in the token response")
        claims = self.validate(str(token["id_token"]), nonce, str(token.get("access_token") or ""), clock)
        return self.identity(claims)

    def validate(self, id_token: str, nonce: str, access_token: str = "", clock: Clock = system_clock
                 ) -> dict[str, Any]:
        registry = JWSRegistry(algorithms=list(ALLOWED_ALGORITHMS), strict_check_header=False)
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys
                decoded = jwt.decode(id_token, self._key_set(refresh=True), registry=registry)
            options: Any = {"iss": {"essential": True, "value": self.issuer},
                            "aud": {"essential": True, "value": self.settings.oidc_client_id}}
            params = {"nonce": nonce, "client_id": self.settings.oidc_client_id}
            if access_token:
                params["access_token"] = access_token
            claims = CodeIDToken(decoded.claims, decoded.header, options, params)
            claims.validate(now=int(clock().timestamp()), leeway=self.settings.oidc_leeway_s)
        except (JoseError, ValueError) as error:
            raise OidcError(f"ID token rejected: {type(error).__name__} {error}") from error
        if not nonce or claims.get("nonce") != nonce:
            raise OidcError("ID token rejected: nonce")
        return dict(claims)

    def identity(self, claims: dict[str, Any]) -> Identity:
        personal_id = claims.get(self.settings.oidc_personal_id_claim)
        level = self.settings.oidc_levels.get(str(claims.get(self.settings.oidc_level_claim)))
        if not isinstance(personal_id, str) or not personal_id:
            raise OidcError("ID token carries no personal ID")
        if level not in (1, 2):
            raise OidcError("ID token carries no known assurance level")
        return Identity(self.issuer, str(claims["sub"]), personal_id, level, claims)


_clients: dict[tuple[str, str], OidcClient] = {}
_clients_lock = threading.Lock()


def client_for(settings: CitizenSettings) -> OidcClient:
    """The process's client for the configured provider (metadata and keys cached across requests)."""
    key = (str(settings.oidc_issuer), str(settings.oidc_client_id))
    with _clients_lock:
        found = _clients.get(key)
        if found is None or found.settings is not settings:
            found = _clients[key] = OidcClient(settings)
        return found
