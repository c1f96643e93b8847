"""Every SQL statement of the exchange log."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.ledger.domain import CANONICAL_KEYS, EntryKind, LedgerEntry, RecordedEntry, TreeHead

ENTRY_COLUMNS = (
    "seq", "recorded_at", "kind", "client_system", "relaying_platform", "end_user", "service", "purpose",
    "legal_basis", "personal_ids", "fields_disclosed", "result", "error_code", "request_hash",
    "response_hash", "latency_ms", "correlation_id", "leaf_hash",
)

# SQL rendering of domain.canonical_bytes: to_json escapes strings exactly as JSON (and Python) do.
_SQL_VALUES = {
    "recorded_at": "to_json(to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::text",
    "request_hash": "to_json(encode(request_hash, 'hex'))::text",
    "response_hash": "to_json(encode(response_hash, 'hex'))::text",
    "seq": "seq::text",
    "latency_ms": "latency_ms::text",
    "v": "'1'",
}
CANONICAL_SQL = "convert_to('{' || " + " || ',' || ".join(
    f"'\"{key}\":' || " + _SQL_VALUES.get(key, f"coalesce(to_json({key})::text, 'null')") for key in CANONICAL_KEYS
) + " || '}', 'UTF8')"
RECOMPUTED_SQL = f"sha256('\\x00'::bytea || {CANONICAL_SQL})"


# -- writer -------------------------------------------------------------------------------------------
CLAIM_SQL = ("UPDATE ledger_state SET next_seq = next_seq + %(n)s,"
             " last_recorded_at = greatest(last_recorded_at, %(now)s)"
             " WHERE id = 1 RETURNING next_seq - %(n)s, last_recorded_at")


def claim_seqs(conn: psycopg.Connection, count: int, now: datetime) -> tuple[int, datetime]:
    """Take ``count`` consecutive seq numbers and the batch time (never before the previous batch's).

    The row lock taken here is held until the caller commits or rolls back, so batches of all
    writer processes are written one after another in seq order, and a rolled-back batch gives its
    numbers back.
    """
    row = conn.execute(CLAIM_SQL, {"n": count, "now": now}, prepare=True).fetchone()
    assert row is not None, "ledger_state has no row: run the migrations"
    return int(row[0]), row[1]


def next_seq(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT next_seq FROM ledger_state WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


COPY_SQL = f"COPY ledger_entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN"
ENSURE_PARTITION_SQL = "SELECT ledger_ensure_partition(%s)"


def ensure_partition(conn: psycopg.Connection, moment: datetime) -> None:
    conn.execute(ENSURE_PARTITION_SQL, (moment,))


def copy_text(conn: psycopg.Connection, data: bytes) -> None:
    """Rows already in COPY text format (see encoding.copy_row)."""
    with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
        copy.write(data)


def entry_row(recorded: RecordedEntry, leaf: bytes) -> tuple[Any, ...]:
    e = recorded.entry
    return (recorded.seq, recorded.recorded_at, str(e.kind), e.client_system, e.relaying_platform, e.end_user,
            e.service, e.purpose, e.legal_basis, list(e.personal_ids), list(e.fields_disclosed), e.result,
            e.error_code, e.request_hash, e.response_hash, e.latency_ms, e.correlation_id, leaf)


def copy_entries(conn: psycopg.Connection, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY ledger_entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# -- reading entries ----------------------------------------------------------------------------------
def recorded_from_row(row: Any) -> tuple[RecordedEntry, bytes]:
    m = row._mapping if hasattr(row, "_mapping") else row
    entry = LedgerEntry(
        kind=EntryKind(m["kind"]), client_system=m["client_system"], service=m["service"], purpose=m["purpose"],
        result=m["result"], correlation_id=m["correlation_id"], request_hash=bytes(m["request_hash"]),
        response_hash=bytes(m["response_hash"]), latency_ms=m["latency_ms"],
        relaying_platform=m["relaying_platform"], end_user=m["end_user"], legal_basis=m["legal_basis"],
        error_code=m["error_code"], personal_ids=tuple(m["personal_ids"]),
        fields_disclosed=tuple(m["fields_disclosed"]))
    return RecordedEntry(m["seq"], m["recorded_at"], entry), bytes(m["leaf_hash"])


def entries_at(session: Session, seqs: list[int]) -> list[tuple[RecordedEntry, bytes]]:
    rows = session.execute(text(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ledger_entry WHERE seq = ANY(:seqs)"
                                " ORDER BY seq"), {"seqs": seqs})
    return [recorded_from_row(row) for row in rows]


def entry_count(session: Session) -> int:
    return int(session.execute(text("SELECT coalesce(max(seq) + 1, 0) FROM ledger_entry")).scalar_one())


def leaf_hashes(session: Session, start: int, end: int) -> list[bytes]:
    rows = session.execute(text("SELECT leaf_hash FROM ledger_entry WHERE seq >= :a AND seq < :b ORDER BY seq"),
                           {"a": start, "b": end})
    return [bytes(r[0]) for r in rows]


def save_nodes(session: Session, nodes: list[tuple[int, int, bytes]]) -> None:
    if nodes:
        session.execute(text("INSERT INTO ledger_node (level, idx, hash) VALUES (:l, :i, :h) "
                             "ON CONFLICT (level, idx) DO NOTHING"),
                        [{"l": level, "i": idx, "h": node} for level, idx, node in nodes])


def node_at(session: Session, level: int, idx: int) -> bytes | None:
    row = session.execute(text("SELECT hash FROM ledger_node WHERE level = :l AND idx = :i"),
                          {"l": level, "i": idx}).first()
    return bytes(row[0]) if row else None


_CHECK_ROW = struct.Struct(">hiqi32si32s")  # field count, (len, seq), (len, stored), (len, recomputed)
_STORED_32 = "CASE WHEN octet_length(leaf_hash) = 32 THEN leaf_hash ELSE sha256(leaf_hash) END"


def stream_checks(conn: psycopg.Connection, start: int, end: int) -> Iterator[tuple[int, bytes, bytes]]:
    """(seq, stored leaf hash, recomputed leaf hash) in seq order, as fixed-width binary COPY rows.

    The server renders the canonical bytes and hashes them (the verifier sends the formula; it is not
    stored in the database); rows that disagree are re-derived in Python by the verifier.
    """
    sql = (f"COPY (SELECT seq, {_STORED_32}, {RECOMPUTED_SQL} FROM ledger_entry"
           f" WHERE seq >= {int(start)} AND seq < {int(end)} ORDER BY seq) TO STDOUT (FORMAT binary)")
    size = _CHECK_ROW.size
    buffer = b""
    header_skipped = False
    with conn.cursor() as cur, cur.copy(sql) as copy:
        for chunk in copy:
            buffer += bytes(chunk)
            if not header_skipped:
                if len(buffer) < 19:
                    continue
                buffer, header_skipped = buffer[19:], True
            usable = len(buffer) - len(buffer) % size
            for _, _, seq, _, stored, _, recomputed in _CHECK_ROW.iter_unpack(buffer[:usable]):
                yield seq, stored, recomputed
            buffer = buffer[usable:]
    # the 2-byte trailer (-1) is what remains


def prune_point(session: Session) -> tuple[int, bytes]:
    """(size, frontier) of the tree where pruned partitions end (0, b"" when nothing was pruned)."""
    row = session.execute(text("SELECT pruned_size, pruned_frontier FROM ledger_state WHERE id = 1")).first()
    return (int(row[0]), bytes(row[1])) if row else (0, b"")


# -- tree heads ---------------------------------------------------------------------------------------
_HEAD_COLUMNS = "tree_size, root_hash, timestamp_ms, key_id, signature, frontier"


def _head(row: Any) -> TreeHead:
    return TreeHead(row[0], bytes(row[1]), row[2], row[3], bytes(row[4]), bytes(row[5]))


def latest_head(session: Session) -> TreeHead | None:
    row = session.execute(text(f"SELECT {_HEAD_COLUMNS} FROM ledger_tree_head ORDER BY tree_size DESC LIMIT 1"))
    first = row.first()
    return _head(first) if first else None


def head_at(session: Session, tree_size: int) -> TreeHead | None:
    row = session.execute(text(f"SELECT {_HEAD_COLUMNS} FROM ledger_tree_head WHERE tree_size = :n"),
                          {"n": tree_size}).first()
    return _head(row) if row else None


def all_heads(session: Session) -> list[TreeHead]:
    rows = session.execute(text(f"SELECT {_HEAD_COLUMNS} FROM ledger_tree_head ORDER BY tree_size"))
    return [_head(r) for r in rows]


def save_head(session: Session, head: TreeHead) -> None:
    session.execute(text(f"INSERT INTO ledger_tree_head ({_HEAD_COLUMNS}) VALUES (:s, :r, :t, :k, :g, :f)"
                         " ON CONFLICT (tree_size) DO NOTHING"),
                    {"s": head.tree_size, "r": head.root_hash, "t": head.timestamp_ms, "k": head.key_id,
                     "g": head.signature, "f": head.frontier})
