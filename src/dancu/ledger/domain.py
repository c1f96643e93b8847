"""What a log entry is, its canonical bytes and leaf hash, and the signed tree head format.

Canonical bytes of an entry (format version 1), which anyone can recompute:

* a JSON object with exactly the keys of :data:`CANONICAL_KEYS`, sorted by code point, no whitespace
  (``separators=(",", ":")``), non-ASCII written as UTF-8 (not ``\\u`` escapes), encoded as UTF-8;
* ``seq`` and ``latency_ms`` as JSON integers, ``v`` = 1;
* ``recorded_at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (always six fractional digits);
* ``request_hash`` and ``response_hash`` as lowercase hex;
* ``personal_ids`` and ``fields_disclosed`` as arrays of strings in stored order;
* absent optional values as JSON ``null``.

The leaf hash is ``SHA-256(0x00 || canonical bytes)`` (RFC 9162 §2.1.1).  ``seq`` is part of the
bytes, so an entry moved to another position no longer matches its own leaf hash.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from dancu.ledger.merkle import leaf_hash

FORMAT_VERSION = 1
CANONICAL_KEYS = (
    "client_system", "correlation_id", "end_user", "error_code", "fields_disclosed", "kind", "latency_ms",
    "legal_basis", "personal_ids", "purpose", "recorded_at", "relaying_platform", "request_hash",
    "response_hash", "result", "seq", "service", "v",
)


class EntryKind(StrEnum):
    EXCHANGE = "exchange"
    ADMIN = "admin"


@dataclass(frozen=True)
class LedgerEntry:
    """One exchange (or administrative action) as its caller describes it; seq and time come from the writer."""

    kind: EntryKind
    client_system: str
    service: str
    purpose: str
    result: str
    correlation_id: str
    request_hash: bytes = b""
    response_hash: bytes = b""
    latency_ms: int = 0
    relaying_platform: str | None = None
    end_user: str | None = None
    legal_basis: str | None = None
    error_code: str | None = None
    personal_ids: tuple[str, ...] = ()
    fields_disclosed: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordedEntry:
    """An entry with its place in the log."""

    seq: int
    recorded_at: datetime
    entry: LedgerEntry


@dataclass(frozen=True)
class Receipt:
    seq: int
    leaf_hash: bytes
    recorded_at: datetime


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_object(recorded: RecordedEntry) -> dict[str, Any]:
    e = recorded.entry
    return {
        "client_system": e.client_system, "correlation_id": e.correlation_id, "end_user": e.end_user,
        "error_code": e.error_code, "fields_disclosed": list(e.fields_disclosed), "kind": str(e.kind),
        "latency_ms": e.latency_ms, "legal_basis": e.legal_basis, "personal_ids": list(e.personal_ids),
        "purpose": e.purpose, "recorded_at": format_time(recorded.recorded_at),
        "relaying_platform": e.relaying_platform, "request_hash": e.request_hash.hex(),
        "response_hash": e.response_hash.hex(), "result": e.result, "seq": recorded.seq,
        "service": e.service, "v": FORMAT_VERSION,
    }


def canonical_bytes(recorded: RecordedEntry) -> bytes:
    """The canonical bytes (fast path; equal to :func:`canonical_bytes_reference`, which tests check)."""
    return orjson.dumps(canonical_object(recorded), option=orjson.OPT_SORT_KEYS)


def canonical_bytes_reference(recorded: RecordedEntry) -> bytes:
    """The definition, in the standard library only."""
    text = json.dumps(canonical_object(recorded), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def entry_leaf_hash(recorded: RecordedEntry) -> bytes:
    return leaf_hash(canonical_bytes(recorded))


@dataclass(frozen=True)
class TreeHead:
    """A signed tree head.  ``signed_bytes`` follows RFC 9162's TreeHeadDataV2 (§4.10)."""

    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    key_id: str = ""
    signature: bytes = b""
    frontier: bytes = field(default=b"", compare=False)

    def signed_bytes(self) -> bytes:
        # uint64 timestamp, uint64 tree_size, opaque root_hash<32..255>, empty extensions<0..2^16-1>
        return struct.pack(">QQB", self.timestamp_ms, self.tree_size, len(self.root_hash)) + self.root_hash + b"\0\0"
