"""Pure rules of operator accounts: the roles, the token format, and whether a token may act now.

An operator token is ``dco_`` + 64 hex digits (256 random bits) + 8 hex digits of CRC-32 over them.  The
checksum lets secret scanners recognise a leaked token offline with almost no false positives, and lets the
server refuse a mistyped or truncated token without touching the database.  Only SHA-256 of the whole token is
stored: the token carries 256 bits of entropy, so a stolen hash cannot be brute-forced whatever the hash
speed, and a deterministic hash is what lets the row be found by an index in one look-up (a salted slow
hash such as argon2 would need a scan, and would cost tens of milliseconds of CPU per request for no gain).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

TOKEN_PREFIX = "dco_"
_BODY_HEX = 64
TOKEN_PATTERN = re.compile(r"^dco_([0-9a-f]{64})([0-9a-f]{8})$")
USERNAME_PATTERN = r"^[a-z][a-z0-9._-]{1,49}$"


class Role(StrEnum):
    """Least privilege: each role is one duty of the database manager; an account holds only what it needs."""

    REGISTRAR = "registrar"  # create and change resident records
    REGISTRY_READER = "registry_reader"  # search and read resident records and their history
    CONNECTIONS = "connections"  # onboarding, credentials, suspension and termination of connected systems
    INSPECTOR = "inspector"  # exchange-log search, export, reports, misuse flags, a resident's access history
    REVIEWER = "reviewer"  # sector-sync review queue and job reports; citizens' correction requests
    ADMIN = "admin"  # operator accounts, their roles and tokens — and nothing else


ROLE_TITLES: dict[Role, tuple[str, str]] = {
    Role.REGISTRAR: ("Cán bộ đăng ký dân cư", "Registrar"),
    Role.REGISTRY_READER: ("Cán bộ tra cứu dân cư", "Registry reader"),
    Role.CONNECTIONS: ("Cán bộ quản lý kết nối", "Connections officer"),
    Role.INSPECTOR: ("Thanh tra, kiểm tra", "Inspector"),
    Role.REVIEWER: ("Cán bộ duyệt dữ liệu", "Reviewer"),
    Role.ADMIN: ("Quản trị tài khoản cán bộ", "Operator administrator"),
}


def new_token() -> str:
    """A fresh operator token; shown once to whoever asked for it, never stored."""
    body = secrets.token_hex(_BODY_HEX // 2)
    return f"{TOKEN_PREFIX}{body}{_checksum(body)}"


def _checksum(body: str) -> str:
    return f"{zlib.crc32(body.encode()):08x}"


def is_well_formed(token: str) -> bool:
    """True for ``dco_<64 hex><8 hex CRC-32>`` with a matching checksum; no database needed."""
    match = TOKEN_PATTERN.match(token)
    return match is not None and secrets.compare_digest(_checksum(match.group(1)), match.group(2))


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_hint(token: str) -> str:
    """The last four characters, so people can tell their tokens apart; reveals 16 bits of a checksum."""
    return token[-4:]


@dataclass(frozen=True)
class TokenState:
    """What one look-up of a token tells: the token row and its operator's account."""

    expires_at: datetime
    revoked_at: datetime | None
    operator_active: bool


def refusal(state: TokenState | None, now: datetime) -> str | None:
    """Why the token may not act now (a stable reason code), or None when it may."""
    if state is None:
        return "unknown_token"
    if state.revoked_at is not None and state.revoked_at <= now:
        return "token_revoked"
    if state.expires_at <= now:
        return "token_expired"
    if not state.operator_active:
        return "operator_disabled"
    return None


def missing_roles(held: frozenset[Role], any_of: frozenset[Role]) -> bool:
    """True when the operator holds none of the roles a route accepts."""
    return not (held & any_of)


TOUCH_EVERY_SECONDS = 60


def should_touch(last_used_at: datetime | None, now: datetime) -> bool:
    """Record last use at most once a minute per token: precise enough to spot a dormant token, and it keeps
    a busy script from turning every read into a write."""
    return last_used_at is None or (now - last_used_at).total_seconds() >= TOUCH_EVERY_SECONDS


def parse_roles(values: list[str]) -> frozenset[Role]:
    """Roles from their names; unknown names raise ``ValueError`` naming them."""
    unknown = sorted(set(values) - {role.value for role in Role})
    if unknown:
        raise ValueError(", ".join(unknown))
    return frozenset(Role(v) for v in values)
