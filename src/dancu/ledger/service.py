"""Tree heads and proofs over the stored log.  Never commits: the caller owns the transaction."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from dancu.ledger import merkle, repository
from dancu.ledger.domain import TreeHead
from dancu.ledger.errors import NoTreeHead, TreeSizeOutOfRange
from dancu.ledger.signing import Signer

CHUNK = 100_000
NODE_LEVEL = 8  # interior nodes over 256 leaves and more are cached (about 1 row per 128 entries)


def _frontier(head: TreeHead | None) -> merkle.Frontier:
    return merkle.Frontier.from_bytes(head.tree_size, head.frontier) if head else merkle.Frontier()


def publish_tree_head(session: Session, signer: Signer, now_ms: Callable[[], int] | None = None,
                      upto: int | None = None) -> TreeHead:
    """Sign a head over every entry (or the first ``upto``), hashing only entries added since the latest head."""
    latest = repository.latest_head(session)
    frontier = _frontier(latest)
    count = repository.entry_count(session) if upto is None else upto
    if latest and latest.tree_size >= count:
        return latest
    for start in range(frontier.size, count, CHUNK):
        end = min(start + CHUNK, count)
        leaves = repository.leaf_hashes(session, start, end)
        if len(leaves) != end - start:
            raise TreeSizeOutOfRange("Nhật ký bị thiếu mục; hãy chạy 'dancu log verify'.",
                                     f"entries missing between {start} and {end}; run 'dancu log verify'")
        nodes: list[tuple[int, int, bytes]] = []
        for leaf in leaves:
            frontier.append_recording(leaf, NODE_LEVEL, nodes)
        repository.save_nodes(session, nodes)
    timestamp = now_ms() if now_ms else int(time.time() * 1000)
    head = signer.sign(TreeHead(count, frontier.root(), timestamp, frontier=frontier.to_bytes()))
    repository.save_head(session, head)
    return head


def latest_head(session: Session) -> TreeHead:
    head = repository.latest_head(session)
    if head is None:
        raise NoTreeHead("Chưa công bố gốc cây nào.", "No tree head has been published yet.")
    return head


def _subtree(session: Session) -> merkle.SubtreeHash:
    """MTH(D[start:end]) from cached complete subtrees where they exist, else from stored leaves: O(log n)
    reads once the nodes are cached (proof ranges are always aligned, see merkle.inclusion_proof)."""

    def subtree(start: int, end: int) -> bytes:
        size = end - start
        if size >= 1 << NODE_LEVEL:
            if size & (size - 1) == 0 and start % size == 0:
                cached = repository.node_at(session, size.bit_length() - 1, start // size)
                if cached is not None:
                    return cached
            k = 1 << ((size - 1).bit_length() - 1)
            return merkle.node_hash(subtree(start, start + k), subtree(start + k, end))
        leaves = repository.leaf_hashes(session, start, end)
        if len(leaves) != size:
            raise TreeSizeOutOfRange("Các mục này đã được lưu trữ; hãy dùng tệp lưu trữ.",
                                     f"entries {start}..{end - 1} are pruned: prove them from the archive files")
        return merkle.root(leaves)

    return subtree


def _check_size(session: Session, size: int) -> TreeHead:
    head = latest_head(session)
    if not 0 < size <= head.tree_size:
        raise TreeSizeOutOfRange(f"Kích thước cây phải từ 1 đến {head.tree_size}.",
                                 f"tree size must be between 1 and {head.tree_size}", tree_size=size)
    return head


def inclusion(session: Session, seq: int, tree_size: int | None = None) -> dict[str, object]:
    """Inclusion proof of entry ``seq`` in the tree of ``tree_size`` (default: the latest head)."""
    size = tree_size if tree_size is not None else latest_head(session).tree_size
    _check_size(session, size)
    if not 0 <= seq < size:
        raise TreeSizeOutOfRange(f"Mục {seq} không thuộc cây kích thước {size}.",
                                 f"entry {seq} is not in a tree of size {size}", seq=seq, tree_size=size)
    stored = repository.leaf_hashes(session, seq, seq + 1)
    if not stored:
        raise TreeSizeOutOfRange(f"Mục {seq} đã được lưu trữ; hãy dùng tệp lưu trữ.",
                                 f"entry {seq} is pruned: its leaf is in the archive files", seq=seq)
    leaf = stored[0]
    proof = merkle.inclusion_proof(seq, size, _subtree(session))
    head = repository.head_at(session, size)
    root = head.root_hash if head else merkle.root_from_inclusion(leaf, seq, size, proof)
    return {"seq": seq, "tree_size": size, "leaf_hash": leaf.hex(), "proof": [p.hex() for p in proof],
            "root_hash": root.hex() if root else None, "signed": head is not None}


def consistency(session: Session, first: int, second: int) -> dict[str, object]:
    _check_size(session, second)
    if not 0 < first <= second:
        raise TreeSizeOutOfRange("Cần 0 < first ≤ second.", "need 0 < first <= second", first=first, second=second)
    proof = merkle.consistency_proof(first, second, _subtree(session))
    return {"first": first, "second": second, "proof": [p.hex() for p in proof]}
