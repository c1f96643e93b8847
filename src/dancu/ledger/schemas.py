"""What the ledger API returns."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from dancu.ledger.domain import TreeHead


class TreeHeadOut(BaseModel):
    """A signed tree head, as an outside witness keeps it (hashes in hex, signature in base64)."""

    tree_size: int
    root_hash: str
    timestamp_ms: int
    key_id: str
    signature: str
    signed_bytes: str

    @classmethod
    def of(cls, head: TreeHead) -> TreeHeadOut:
        return cls(tree_size=head.tree_size, root_hash=head.root_hash.hex(), timestamp_ms=head.timestamp_ms,
                   key_id=head.key_id, signature=base64.b64encode(head.signature).decode(),
                   signed_bytes=head.signed_bytes().hex())


class InclusionProofOut(BaseModel):
    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str | None
    signed: bool
    proof: list[str]


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    proof: list[str]


class EntryOut(BaseModel):
    """One log entry as an inspector sees it (hashes in hex)."""

    seq: int
    recorded_at: datetime
    kind: str
    client_system: str
    relaying_platform: str | None
    end_user: str | None
    service: str
    purpose: str
    legal_basis: str | None
    personal_ids: list[str]
    fields_disclosed: list[str]
    result: str
    error_code: str | None
    request_hash: str
    response_hash: str
    latency_ms: int
    correlation_id: str
    leaf_hash: str

    @classmethod
    def of(cls, row: Any) -> EntryOut:
        m = dict(row._mapping)
        for key in ("request_hash", "response_hash", "leaf_hash"):
            m[key] = bytes(m[key]).hex()
        return cls.model_validate(m)


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_before: int | None = Field(description="Pass as ?before= for the next (older) page; null at the end")


class SystemReportOut(BaseModel):
    system: str
    first_day: date
    last_day: date
    days: list[dict[str, Any]]
    denials: list[dict[str, Any]]
    fields: list[dict[str, Any]]
    purposes: list[dict[str, Any]]
    services: list[dict[str, Any]]


class FlagOut(BaseModel):
    system: str
    day: date
    kind: str
    explanation: str
    figures: dict[str, float]


class AccessOut(BaseModel):
    """One use of a resident's data: who (agency and system), when, why, which fields."""

    seq: int
    recorded_at: datetime
    client_system: str
    system_name: str | None
    organisation_name: str | None
    relaying_platform: str | None
    end_user: str | None = Field(None, description="On whose behalf: the connected system's end user, or the "
                                 "database manager's operator (client systems operator:api, operator:cli)")
    service: str
    purpose: str
    legal_basis: str | None
    fields_disclosed: list[str]
    result: str
    error_code: str | None


class AccessPage(BaseModel):
    items: list[AccessOut]
    next_before: int | None
