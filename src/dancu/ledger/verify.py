"""``dancu log verify``: recompute every leaf and every signed root, and say exactly what was changed.

One pass in seq order over (seq, stored leaf hash, leaf hash recomputed from the fields).  Findings:

* ``removed`` — a seq is missing; ``duplicated`` — a seq appears twice;
* ``reordered`` — an entry sits at another seq than the one it was recorded at;
* ``altered`` — an entry's fields no longer match its stored leaf hash (``leaf_hash_altered`` when the
  fields are the ones that were signed and the stored hash is what changed);
* ``root_mismatch`` — a signed tree head's root differs from the recomputed one, with the range of
  entries that differ; ``bad_signature``; ``head_beyond_log`` — entries were cut off the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import psycopg
from sqlalchemy.orm import Session

from dancu.ledger import merkle, repository
from dancu.ledger.domain import RecordedEntry, TreeHead, entry_leaf_hash
from dancu.ledger.signing import verify_head

MAX_DIAGNOSED = 1_000


@dataclass(frozen=True)
class Finding:
    kind: str
    seq: int | None
    detail: str


@dataclass
class Report:
    entries: int = 0
    heads: int = 0
    pruned: int = 0  # entries before this seq were pruned; their archives are verified offline
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass
class _Pass:
    """State of the streaming pass."""

    heads: list[TreeHead]
    public_key: bytes
    report: Report
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier)
    stored: merkle.Frontier | None = None  # a second frontier over the stored hashes, once they diverge
    mismatched: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    head_index: int = 0
    last_good_size: int = 0
    head_results: dict[int, tuple[bool, bool]] = field(default_factory=dict)  # size -> (fields ok, stored ok)

    def add(self, kind: str, seq: int | None, detail: str) -> None:
        self.report.findings.append(Finding(kind, seq, detail))

    def leaf(self, stored: bytes, recomputed: bytes) -> None:
        if stored != recomputed and self.stored is None:
            self.stored = merkle.Frontier(self.frontier.size, self.frontier.nodes)
        self.frontier.append(recomputed)
        if self.stored is not None:
            self.stored.append(stored)
        self.check_heads()

    def check_heads(self) -> None:
        while self.head_index < len(self.heads) and self.heads[self.head_index].tree_size == self.frontier.size:
            self.check_head(self.heads[self.head_index])
            self.head_index += 1

    def check_head(self, head: TreeHead) -> None:
        if not verify_head(head, self.public_key):
            self.add("bad_signature", None, f"tree head of size {head.tree_size} has no valid signature")
        fields_ok = self.frontier.root() == head.root_hash
        stored_ok = (self.stored.root() if self.stored else self.frontier.root()) == head.root_hash
        self.head_results[head.tree_size] = (fields_ok, stored_ok)
        if fields_ok or stored_ok:
            self.last_good_size = head.tree_size
            return
        first = self._first_difference(head)
        self.add("root_mismatch", first, f"root of the signed tree head of size {head.tree_size} differs from the "
                 f"recomputed one; the first differing entry is at or after seq {first}")

    def _first_difference(self, head: TreeHead) -> int:
        """Narrow with the head's signed frontier: the first subtree whose hash differs."""
        start = self.last_good_size
        signed = merkle.Frontier.from_bytes(head.tree_size, head.frontier) if head.frontier else None
        if signed is None or signed.root() != head.root_hash:
            return start
        for (lo, _hi), ours, theirs in zip(self.frontier.ranges(), self.frontier.nodes, signed.nodes, strict=True):
            if ours != theirs:
                start = max(lo, start)
                break
        # entries already seen to be missing or changed explain the difference more precisely
        known = [s for s in (*self.missing[:1], *self.mismatched[:1]) if start <= s < head.tree_size]
        return min(known, default=start)


def verify_log(conn: psycopg.Connection, session: Session, public_key: bytes) -> Report:
    """Verify the whole log; ``conn`` streams the entries, ``session`` reads heads and suspect rows."""
    started = time.perf_counter()
    heads = repository.all_heads(session)
    state = _Pass(heads, public_key, Report(heads=len(heads)))
    expected = _start_at_prune_point(session, state)
    previous = expected - 1
    for seq, stored, recomputed in repository.stream_checks(conn, expected, 2**62):
        if seq == previous:
            state.add("duplicated", seq, f"seq {seq} appears more than once")
            continue
        if seq > expected:
            state.missing.extend(range(expected, min(seq, expected + MAX_DIAGNOSED)))
            span = f"seq {expected}" if seq == expected + 1 else f"seq {expected}..{seq - 1}"
            state.add("removed", expected, f"{span} missing: entries were removed")
        if stored != recomputed:
            state.mismatched.append(seq)
        state.leaf(stored, recomputed)
        expected, previous = seq + 1, seq
    state.report.entries = expected
    for head in heads[state.head_index:]:
        if head.tree_size > state.frontier.size:
            state.add("head_beyond_log", state.frontier.size,
                      f"a tree head was signed over {head.tree_size} entries but the log holds "
                      f"{state.frontier.size}: entries from seq {state.frontier.size} on were removed")
    _diagnose(session, state)
    state.report.findings.sort(key=lambda f: (f.seq if f.seq is not None else -1, f.kind))
    state.report.seconds = time.perf_counter() - started
    return state.report


def _diagnose(session: Session, state: _Pass) -> None:
    """Say, for each entry whose fields and stored hash disagree, whether it moved or was altered."""
    suspects = state.mismatched[:MAX_DIAGNOSED]
    candidates = set(suspects) | set(state.missing)
    for recorded, stored in repository.entries_at(session, suspects):
        origin = next((c for c in sorted(candidates - {recorded.seq})
                       if entry_leaf_hash(_at(recorded, c)) == stored), None)
        if origin is not None:
            state.add("reordered", recorded.seq, f"the entry at seq {recorded.seq} was recorded as seq {origin}")
        elif _signed_fields_ok(state, recorded.seq):
            state.add("leaf_hash_altered", recorded.seq, f"seq {recorded.seq}: the stored leaf_hash was changed; "
                      "the fields still match the signed tree head")
        else:
            state.add("altered", recorded.seq, f"seq {recorded.seq}: the entry's fields no longer match its "
                      "stored leaf_hash (recorded at insertion)")
    if len(state.mismatched) > MAX_DIAGNOSED:
        state.add("altered", state.mismatched[MAX_DIAGNOSED],
                  f"{len(state.mismatched) - MAX_DIAGNOSED} more entries disagree with their leaf hashes")


def _at(recorded: RecordedEntry, seq: int) -> RecordedEntry:
    return replace(recorded, seq=seq)


def _signed_fields_ok(state: _Pass, seq: int) -> bool:
    covering = [size for size in sorted(state.head_results) if size > seq]
    return bool(covering) and state.head_results[covering[0]][0]


def _start_at_prune_point(session: Session, state: _Pass) -> int:
    """Entries before the prune point live in verified archives; continue from the frontier stored there,
    which must be the one of a signed tree head of that size."""
    pruned, frontier = repository.prune_point(session)
    if not pruned:
        return 0
    state.report.pruned = pruned
    state.frontier = merkle.Frontier.from_bytes(pruned, frontier)
    state.last_good_size = pruned
    while state.head_index < len(state.heads) and state.heads[state.head_index].tree_size < pruned:
        state.head_index += 1
    at = state.heads[state.head_index] if state.head_index < len(state.heads) else None
    if at is None or at.tree_size != pruned:
        state.add("prune_point_unsigned", pruned, f"no signed tree head of size {pruned} vouches for the stored "
                  "frontier at the prune point")
    state.check_heads()
    return pruned
