"""JOSE work with no database: public JWKs of clients, client assertions (RFC 7523) and the platform's own
Ed25519-signed access tokens.  Uses PyJWT over ``cryptography``."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dancu.agencies.settings import AgencySettings

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ISSUER = "dancu"
AUDIENCE = "dancu-exchange"
KEY_FILE = "token-signing.key"
LEEWAY = timedelta(seconds=30)
# kty/crv → the one algorithm we accept for it (no "none", no HMAC, no algorithm confusion).
ALGORITHMS = {("OKP", "Ed25519"): "EdDSA", ("EC", "P-256"): "ES256", ("RSA", None): "RS256"}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MIN_RSA_BITS = 2048


class KeyProblem(ValueError):
    """A submitted JWK is unusable; the message says why."""


class AssertionProblem(ValueError):
    """A client assertion is not acceptable; the message says why (sent back as error_description)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order."""
    required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
    members = {name: jwk[name] for name in required[jwk["kty"]]}
    return _b64(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


def check_public_jwk(jwk: dict[str, Any]) -> tuple[str, str]:
    """``(kid, alg)`` of a usable public JWK, else :class:`KeyProblem`."""
    if PRIVATE_MEMBERS & set(jwk):
        raise KeyProblem("the JWK holds private key material; register the public key only")
    kty = jwk.get("kty")
    alg = ALGORITHMS.get((str(kty), None if kty == "RSA" else str(jwk.get("crv"))))
    if alg is None:
        raise KeyProblem("supported keys: OKP/Ed25519 (EdDSA), EC/P-256 (ES256), RSA ≥ 2048 bits (RS256)")
    if jwk.get("alg") not in (None, alg):
        raise KeyProblem(f"a {kty} key signs with {alg}, not {jwk['alg']}")
    try:
        key = jwt.PyJWK({**jwk, "alg": alg})
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, KeyError, TypeError) as error:
        raise KeyProblem(f"the JWK does not load: {error}") from None
    if alg == "RS256" and key.key.key_size < MIN_RSA_BITS:
        raise KeyProblem("RSA keys must have at least 2048 bits")
    kid = jwk.get("kid") or jwk_thumbprint(jwk)
    if not isinstance(kid, str) or not 1 <= len(kid) <= 200 or not kid.isprintable() or "/" in kid:
        raise KeyProblem("kid must be a printable string of 1–200 characters without '/'")
    return kid, alg


def unverified_assertion(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, unverified — only to find which system and key to check against."""
    try:
        return jwt.get_unverified_header(assertion), jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise AssertionProblem(f"client_assertion is not a JWT: {error}") from None


def verify_assertion(
    assertion: str, jwk: dict[str, Any], client_id: str, audience: str, now: datetime, max_seconds: int
) -> dict[str, Any]:
    """Claims of a client assertion signed by ``jwk`` for ``client_id`` and ``audience``, or AssertionProblem."""
    _, alg = check_public_jwk(jwk)
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion, jwt.PyJWK({**jwk, "alg": alg}), algorithms=[alg], audience=audience, issuer=client_id,
            leeway=LEEWAY, options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.PyJWTError as error:
        raise AssertionProblem(f"client_assertion rejected: {error}") from None
    if claims["sub"] != client_id:
        raise AssertionProblem("client_assertion: sub must equal iss (the client_id)")
    if claims["exp"] > (now + timedelta(seconds=max_seconds) + LEEWAY).timestamp():
        raise AssertionProblem(f"client_assertion: exp may be at most {max_seconds} s ahead")
    if not isinstance(claims["jti"], str) or not 8 <= len(claims["jti"]) <= 200:
        raise AssertionProblem("client_assertion: jti must be a unique string of 8–200 characters")
    return claims


@dataclass(frozen=True)
class PlatformKey:
    """The platform's own Ed25519 key that signs access tokens."""

    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def kid(self) -> str:
        return hashlib.sha256(self.public_bytes).hexdigest()[:16]

    def public_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64(self.public_bytes), "alg": "EdDSA", "use": "sig",
                "kid": self.kid}

    def issue(self, claims: dict[str, Any], now: datetime, seconds: int) -> str:
        body = {**claims, "iss": ISSUER, "aud": AUDIENCE, "iat": int(now.timestamp()),
                "exp": int((now + timedelta(seconds=seconds)).timestamp()), "jti": uuid.uuid4().hex}
        return jwt.encode(body, self.private_key, algorithm="EdDSA", headers={"kid": self.kid})

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of an access token this key signed and that has not expired, else ``jwt.PyJWTError``."""
        claims: dict[str, Any] = jwt.decode(
            token, self.private_key.public_key(), algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER,
            leeway=LEEWAY, options={"require": ["sub", "exp", "sid", "cid", "kind"]},
        )
        return claims


_loaded: dict[str, PlatformKey] = {}
_verified: dict[str, tuple[PlatformKey, dict[str, Any]]] = {}
VERIFIED_CACHE_SIZE = 50_000


def verify_access_token(key: PlatformKey, token: str) -> dict[str, Any]:
    """``key.verify(token)``, remembered until the token expires: the signature and claims of a token never
    change, so a token seen before costs a dict look-up instead of an Ed25519 verification.

    Only what the token itself says is cached.  Whether its system may still call (suspension,
    termination, key revocation) is not in the token and is read from the database on every request.
    The claims returned are shared: callers must not change them.
    """
    seen = _verified.get(token)
    if seen is not None and seen[0] is key and seen[1]["exp"] > time.time() - LEEWAY.total_seconds():
        return seen[1]
    claims = key.verify(token)
    if len(_verified) >= VERIFIED_CACHE_SIZE:
        _verified.clear()  # rare (that many live tokens per process): simpler and as fast as an LRU
    _verified[token] = (key, claims)
    return claims


def platform_key(settings: AgencySettings) -> PlatformKey:
    """The configured key, else ``data_dir/token-signing.key`` (generated on first use); cached per process."""
    seen = _by_settings.get(id(settings))
    if seen is not None and seen[0] is settings:  # every request asks: skip resolving the data folder's path
        return seen[1]
    cache_key = settings.token_signing_key or str(Path(settings.data_dir).resolve())
    if cache_key not in _loaded:
        _loaded[cache_key] = PlatformKey(Ed25519PrivateKey.from_private_bytes(_seed(settings)))
    _by_settings[id(settings)] = (settings, _loaded[cache_key])
    return _loaded[cache_key]


_by_settings: dict[int, tuple[AgencySettings, PlatformKey]] = {}


def _seed(settings: AgencySettings) -> bytes:
    if settings.token_signing_key:
        return base64.b64decode(settings.token_signing_key)
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker won the race
            return base64.b64decode(path.read_text().strip())
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        log.warning("generated a new token signing key", extra={"path": str(path)})
    return base64.b64decode(path.read_text().strip())


def utcnow() -> datetime:
    return datetime.now(UTC)
