"""Archive files of closed months, and their offline verification (no database needed).

A file is gzip-compressed JSON Lines:

1. a header: ``{"format": "dancu-ledger-archive/1", "month": "YYYY-MM", "first_seq": a, "end_seq": b,
   "previous": {"tree_size": a, "root_hash": hex}, "start_frontier": [hex, ...]}`` — ``previous`` is the
   end of the archive before (or the empty tree), ``start_frontier`` the right edge of the tree of size a;
2. one line per entry, seq a .. b-1: exactly the entry's canonical bytes, so its leaf hash is
   ``SHA-256(0x00 || line)``;
3. the signed tree head of size b: ``{"tree_head": {"tree_size", "root_hash", "timestamp_ms", "key_id",
   "signature" (base64), "frontier": [hex, ...]}}``.

Verification folds the lines into the start frontier and must land on the signed root: any changed,
removed, added or reordered line is caught.  Archives chain: each one's ``previous`` must equal the
tree head at the end of the one before (as X-Road chains its archived message logs).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from dancu.ledger import merkle
from dancu.ledger.domain import TreeHead
from dancu.ledger.signing import verify_head

FORMAT = "dancu-ledger-archive/1"


def _hexes(frontier: merkle.Frontier) -> list[str]:
    return [node.hex() for node in frontier.nodes]


def head_json(head: TreeHead) -> dict[str, Any]:
    return {"tree_size": head.tree_size, "root_hash": head.root_hash.hex(), "timestamp_ms": head.timestamp_ms,
            "key_id": head.key_id, "signature": base64.b64encode(head.signature).decode(),
            "frontier": [head.frontier[i:i + 32].hex() for i in range(0, len(head.frontier), 32)]}


def head_of(data: dict[str, Any]) -> TreeHead:
    return TreeHead(int(data["tree_size"]), bytes.fromhex(data["root_hash"]), int(data["timestamp_ms"]),
                    str(data["key_id"]), base64.b64decode(data["signature"]),
                    b"".join(bytes.fromhex(n) for n in data.get("frontier", [])))


def write(path: Path, month: str, start: merkle.Frontier, end_seq: int, lines: Iterable[bytes],
          finish: Callable[[], TreeHead]) -> tuple[bytes, TreeHead]:
    """Write the archive (to a temporary name, then renamed); ``finish`` gives the end head once every
    line is written.  Returns the SHA-256 of the file and that head."""
    header = {"format": FORMAT, "month": month, "first_seq": start.size, "end_seq": end_seq,
              "previous": {"tree_size": start.size, "root_hash": start.root().hex()}, "start_frontier": _hexes(start)}
    partial = path.with_name(path.name + ".partial")
    with gzip.open(partial, "wb", compresslevel=6) as out:
        out.write(orjson.dumps(header) + b"\n")
        for line in lines:
            out.write(line + b"\n")
        end = finish()
        out.write(orjson.dumps({"tree_head": head_json(end)}) + b"\n")
    partial.replace(path)
    return file_sha256(path), end


def file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


@dataclass
class ArchiveCheck:
    path: Path
    first_seq: int = 0
    end_seq: int = 0
    previous: dict[str, Any] = field(default_factory=dict)
    end: TreeHead | None = None
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def end_link(self) -> dict[str, Any] | None:
        return {"tree_size": self.end.tree_size, "root_hash": self.end.root_hash.hex()} if self.end else None


def _lines(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as stream:
        for line in stream:
            yield line.rstrip(b"\n")


def _canonical(line: bytes) -> bool:
    try:
        obj = json.loads(line)
    except ValueError:
        return False
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == line


def verify(path: Path, public_key: bytes, previous: dict[str, Any] | None = None) -> ArchiveCheck:
    """Check one archive offline; ``previous`` is the end link of the archive before it, when known."""
    check = ArchiveCheck(path)
    try:
        _verify(check, _lines(path), public_key, previous)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
        check.findings.append(f"unreadable archive: {error!r}")
    return check


def _verify(check: ArchiveCheck, lines: Iterator[bytes], public_key: bytes, previous: dict[str, Any] | None) -> None:
    header = orjson.loads(next(lines))
    if header.get("format") != FORMAT:
        check.findings.append(f"not a {FORMAT} file")
        return
    check.first_seq, check.end_seq, check.previous = header["first_seq"], header["end_seq"], header["previous"]
    frontier = merkle.Frontier(check.first_seq, [bytes.fromhex(n) for n in header["start_frontier"]])
    if frontier.root().hex() != header["previous"]["root_hash"] or header["previous"]["tree_size"] != frontier.size:
        check.findings.append("the start frontier does not match the previous tree head")
    if previous is not None and previous != header["previous"]:
        check.findings.append(f"chain broken: starts from {header['previous']}, the archive before ends at {previous}")
    last = b""
    for line in lines:
        if last:
            _entry(check, frontier, last)
        last = line
    check.end = head_of(orjson.loads(last)["tree_head"])
    _end(check, frontier, public_key)


def _entry(check: ArchiveCheck, frontier: merkle.Frontier, line: bytes) -> None:
    seq = frontier.size
    if len(check.findings) < 20:
        if not _canonical(line):
            check.findings.append(f"seq {seq}: line is not in canonical form")
        elif orjson.loads(line).get("seq") != seq:
            check.findings.append(f"seq {seq}: line carries seq {orjson.loads(line).get('seq')} (reordered or removed)")
    frontier.append(merkle.leaf_hash(line))


def _end(check: ArchiveCheck, frontier: merkle.Frontier, public_key: bytes) -> None:
    assert check.end is not None
    if frontier.size != check.end.tree_size or check.end.tree_size != check.end_seq:
        check.findings.append(f"holds entries up to {frontier.size} but its tree head is of size "
                              f"{check.end.tree_size} (header: {check.end_seq})")
    elif frontier.root() != check.end.root_hash:
        check.findings.append("the entries do not recompute the signed root: an entry was altered")
    if not verify_head(check.end, public_key):
        check.findings.append("the tree head's signature does not verify with this public key")
