"""One exchange-log entry per committed chunk, written in the chunk's own transaction.

The entry takes its ``seq`` from ``ledger_state`` at the very end of the chunk (the row lock is then held only
until the chunk commits, a few milliseconds), so a chunk and its entry commit or vanish together: a rerun after
a kill writes the entry of the redone chunk once.  Fields: client system ``sync:<source>``, service
``sync.apply``, purpose = job and line range, result = counts per outcome, fields written
(``sector_ids.<key>``), request hash = SHA-256 of the chunk's bytes, response hash = SHA-256 of the counts.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson
import psycopg

from dancu.ledger import repository as ledger_repo
from dancu.ledger.domain import EntryKind, LedgerEntry, format_time
from dancu.ledger.encoding import copy_row, prepare


def chunk_entry(source_code: str, sector_key: str, job_id: int, lines: tuple[int, int], outcomes: dict[str, int],
                applied: int, chunk_sha256: bytes, latency_ms: int) -> LedgerEntry:
    counts = orjson.dumps({**dict(sorted(outcomes.items())), "applied": applied}, option=orjson.OPT_SORT_KEYS)
    return LedgerEntry(
        kind=EntryKind.ADMIN, client_system=f"sync:{source_code}", service="sync.apply",
        purpose=f"job {job_id} lines {lines[0]}-{lines[1]}", result=counts.decode(),
        correlation_id=f"sync:{job_id}:{lines[0]}", request_hash=chunk_sha256,
        response_hash=hashlib.sha256(counts).digest(), latency_ms=latency_ms,
        fields_disclosed=(f"sector_ids.{sector_key}",))


def ensure_partition(conn: psycopg.Connection) -> None:
    """This month's log partition, in its own transaction (a concurrent creator wins harmlessly)."""
    try:
        ledger_repo.ensure_partition(conn, datetime.now(UTC))
        conn.commit()
    except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
        conn.rollback()


def append_in_transaction(conn: psycopg.Connection, entry: LedgerEntry) -> int:
    """Append ``entry`` inside the caller's open transaction; its seq."""
    seq, moment = ledger_repo.claim_seqs(conn, 1, datetime.now(UTC))
    prepared = prepare(entry)
    ts = format_time(moment).encode()
    ledger_repo.copy_text(conn, copy_row(prepared, seq, ts, prepared.leaf_hash(seq, ts)))
    return seq
