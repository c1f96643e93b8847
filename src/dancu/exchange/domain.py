"""Pure rules of the exchange: comparing a claim with a record, the X-Road request hash, relayed clients.

Verification is exact on purpose ("no fuzzy yes", after Aadhaar withdrew partial name matching): names
compare by :func:`dancu.kit.text.exact_key` (NFC, Đ look-alikes, case, spacing and tone-mark placement),
nothing looser.  A date of birth compares at the coarser of the two precisions, and the answer says
which precision was used, so a year-only record never silently confirms a full date.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from dancu.agencies.identifiers import InvalidIdentifier, parse_system
from dancu.kit.text import clean, exact_key
from dancu.registry.domain import PartialDate, PartialDateError

MATCH, NO_MATCH, NOT_PROVIDED = "match", "no_match", "not_provided"
PRECISIONS = ("year", "month", "day")
# The request headers that enter X-Road-Request-Hash, in this order, when the client sent them.
HASHED_HEADERS = ("x-road-client", "x-road-id", "x-road-userid", "x-road-issue", "x-road-represented-party")


class Outcome(StrEnum):
    OK = "ok"
    RESIDENT_NOT_FOUND = "resident_not_found"
    RESIDENT_DECEASED = "resident_deceased"
    RESIDENT_MISSING = "resident_missing"


@dataclass(frozen=True)
class Claim:
    """What a caller asserts about a resident; ``None`` = not provided."""

    personal_id: str
    full_name: str | None = None
    date_of_birth: str | None = None
    sex: str | None = None
    province: str | None = None
    commune: str | None = None
    address_text: str | None = None

    def policy_fields(self) -> frozenset[str]:
        """Record fields the claim is compared with: the policy must allow each of them."""
        pairs = (("full_name", self.full_name), ("date_of_birth", self.date_of_birth), ("sex", self.sex),
                 ("permanent_province", self.province), ("permanent_commune", self.commune),
                 ("permanent_address", self.address_text))
        return frozenset(name for name, value in pairs if value is not None)


@dataclass(frozen=True)
class Verdict:
    match: bool
    outcome: Outcome
    fields: dict[str, str]
    dob_precision: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"match": self.match, "code": self.outcome.value, "fields": self.fields}
        if self.dob_precision is not None:
            body["date_of_birth_precision"] = self.dob_precision
        return body


def _precision(value: PartialDate) -> int:
    return 1 if value.month is None else (2 if value.day is None else 3)


def _cut(value: PartialDate, precision: int) -> tuple[int | None, ...]:
    return (value.year, value.month, value.day)[:precision]


@lru_cache(maxsize=65_536)  # dates of birth repeat (~40,000 distinct days a century); PartialDate is immutable
def partial_date(text: str) -> PartialDate:
    return PartialDate.parse(text)


def compare_dob(claimed: str, stored: str | None) -> tuple[str, str | None]:
    """(result, precision compared) — the coarser of the claimed and the stored precision."""
    try:
        given = partial_date(claimed)
    except PartialDateError:
        return NO_MATCH, None
    if stored is None:
        return NO_MATCH, None
    known = partial_date(stored)
    precision = min(_precision(given), _precision(known))
    same = _cut(given, precision) == _cut(known, precision)
    return (MATCH if same else NO_MATCH), PRECISIONS[precision - 1]


def _same_text(claimed: str, stored: str | None) -> bool:
    return stored is not None and exact_key(claimed) == exact_key(stored)


def _same_code(claimed: str, stored: str | None) -> bool:
    return stored is not None and clean(claimed).upper() == stored.upper()


def _address(claim: Claim, record: Mapping[str, Any]) -> str:
    parts = [(claim.province, record.get("permanent_province"), _same_code),
             (claim.commune, record.get("permanent_commune"), _same_code),
             (claim.address_text, record.get("permanent_address"), _same_text)]
    given = [(c, s, same) for c, s, same in parts if c is not None]
    if not given:
        return NOT_PROVIDED
    return MATCH if all(same(c, s) for c, s, same in given) else NO_MATCH


def verify(claim: Claim, record: Mapping[str, Any] | None) -> Verdict:
    """Per-field results and the overall match (true only when every provided field matches)."""
    if record is None:
        return Verdict(False, Outcome.RESIDENT_NOT_FOUND, _provided(claim))
    fields = _provided(claim)
    precision = None
    if claim.full_name is not None:
        fields["full_name"] = MATCH if _same_text(claim.full_name, record.get("full_name")) else NO_MATCH
    if claim.date_of_birth is not None:
        fields["date_of_birth"], precision = compare_dob(claim.date_of_birth, record.get("date_of_birth"))
    if claim.sex is not None:
        fields["sex"] = MATCH if _same_code(claim.sex, record.get("sex")) else NO_MATCH
    fields["address"] = _address(claim, record)
    outcome = {"dead": Outcome.RESIDENT_DECEASED, "missing": Outcome.RESIDENT_MISSING}.get(
        str(record.get("death_kind")), Outcome.OK)
    provided = [v for v in fields.values() if v != NOT_PROVIDED]
    match = outcome is Outcome.OK and bool(provided) and all(v == MATCH for v in provided)
    return Verdict(match, outcome, fields, precision)


def _provided(claim: Claim) -> dict[str, str]:
    address = (claim.province, claim.commune, claim.address_text)
    values = {"full_name": claim.full_name, "date_of_birth": claim.date_of_birth, "sex": claim.sex,
              "address": None if all(v is None for v in address) else "x"}
    return {name: (NOT_PROVIDED if value is None else NO_MATCH) for name, value in values.items()}


def canonical_headers(headers: Mapping[str, str]) -> bytes:
    """``name:value\\n`` for each of :data:`HASHED_HEADERS` the client sent, names lower case, values trimmed."""
    lines = [f"{name}:{headers[name].strip()}\n" for name in HASHED_HEADERS if name in headers]
    return "".join(lines).encode()


def request_hash(headers: Mapping[str, str], body: bytes) -> bytes:
    """SHA-512(SHA-512(canonical headers) + SHA-512(body)) — the X-Road-Request-Hash, as raw bytes."""
    inner = hashlib.sha512(canonical_headers(headers)).digest() + hashlib.sha512(body).digest()
    return hashlib.sha512(inner).digest()


def encode_hash(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def parse_client(header: str) -> str | None:
    """``INSTANCE/CLASS/CODE/SUBSYSTEM`` from a (percent-encoded) X-Road-Client header, else ``None``."""
    try:
        return str(parse_system(unquote(header.strip())))
    except InvalidIdentifier:
        return None


def provenance_of(field: str, provenance: Mapping[str, Any], fallback_time: str) -> dict[str, Any]:
    """The field's own source and time, else the record-wide ``"*"`` entry, else the row's update time."""
    stamp = provenance.get(field) or provenance.get("*") or {}
    return {"source": stamp.get("source"), "updated_at": stamp.get("updated_at") or fallback_time}
