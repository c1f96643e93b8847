"""SQL of retention: partitions, archive records, the prune point."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.ledger.repository import ENTRY_COLUMNS

_PARTITION = re.compile(r"ledger_entry_(\d{4})m(\d{2})")


def partition_name(month: date) -> str:
    return f"ledger_entry_{month.year:04d}m{month.month:02d}"


def partitions(session: Session) -> list[tuple[date, str]]:
    """(month, name) of every monthly partition, oldest first; others (a default partition) are left out."""
    rows = session.execute(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                "WHERE i.inhparent = 'ledger_entry'::regclass"))
    out = [(date(int(m[1]), int(m[2]), 1), name) for (name,) in rows if (m := _PARTITION.fullmatch(name))]
    return sorted(out)


def partition_bounds(session: Session, month: date) -> tuple[int, int] | None:
    """(first seq, end seq) held by the month's partition, or None when it is empty."""
    row = session.execute(text(f"SELECT min(seq), max(seq) + 1 FROM ledger_partitions.{partition_name(month)}")).one()
    return None if row[0] is None else (int(row[0]), int(row[1]))


def partition_rows(session: Session, month: date) -> Iterator[Any]:
    return iter(session.execute(text(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ledger_partitions."
                                     f"{partition_name(month)} ORDER BY seq").execution_options(yield_per=10_000)))


def archived_months(session: Session) -> set[date]:
    return set(session.execute(text("SELECT month FROM ledger_archive")).scalars())


def archived_end(session: Session) -> int:
    """Where the next archive must start: the end of the last archive, or the prune point."""
    end = session.execute(text("SELECT max(end_seq) FROM ledger_archive")).scalar()
    return max(int(end or 0), pruned_size(session))


def pruned_size(session: Session) -> int:
    return int(session.execute(text("SELECT pruned_size FROM ledger_state WHERE id = 1")).scalar() or 0)


def head_frontier_at_or_below(session: Session, size: int) -> tuple[int, bytes] | None:
    row = session.execute(text("SELECT tree_size, frontier FROM ledger_tree_head WHERE tree_size <= :n "
                               "ORDER BY tree_size DESC LIMIT 1"), {"n": size}).first()
    return (int(row[0]), bytes(row[1])) if row else None


def save_archive(session: Session, month: date, first: int, end: int, file_name: str, digest: bytes,
                 root: bytes) -> None:
    session.execute(text("INSERT INTO ledger_archive (month, first_seq, end_seq, file_name, file_sha256, end_root) "
                         "VALUES (:m, :a, :b, :f, :h, :r)"),
                    {"m": month, "a": first, "b": end, "f": file_name, "h": digest, "r": root})


def archives_before(session: Session, month: date) -> list[Any]:
    """Archived, not yet pruned months before ``month``, oldest first."""
    return list(session.execute(text("SELECT month, first_seq, end_seq, file_name, file_sha256, end_root FROM "
                                     "ledger_archive WHERE pruned_at IS NULL AND month < :m ORDER BY month"),
                                {"m": month}))


def drop_partition(session: Session, month: date, end: int, frontier: bytes) -> None:
    """Drop the month's partition and move the prune point to ``end`` with the tree's frontier there."""
    session.execute(text(f"DROP TABLE ledger_partitions.{partition_name(month)}"))
    session.execute(text("UPDATE ledger_state SET pruned_size = :n, pruned_frontier = :f WHERE id = 1"),
                    {"n": end, "f": frontier})
    session.execute(text("UPDATE ledger_archive SET pruned_at = now() WHERE month = :m"), {"m": month})
