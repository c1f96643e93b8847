"""What the ledger API returns."""

from __future__ import annotations

import base64

from pydantic import BaseModel

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
