"""Shared set-up of the ledger benchmarks: a dedicated, migrated database (never the operator's log)."""

from __future__ import annotations

import hashlib

import psycopg

from dancu.config import get_settings
from dancu.db import Database
from dancu.db import migrate as migrations
from dancu.db.embedded import embedded_server_url
from dancu.db.engine import libpq_url
from dancu.ledger.domain import EntryKind, LedgerEntry


def bench_database(url: str | None) -> Database:
    """``url`` or the embedded server's ``dancu_bench`` database, migrated, ledger emptied."""
    target = url or embedded_server_url(get_settings().data_dir, database="dancu_bench")
    migrations.upgrade(target)
    database = Database(target, pool_size=2)
    with psycopg.connect(libpq_url(target), autocommit=True) as conn:
        conn.execute("TRUNCATE ledger_entry, ledger_tree_head")
    return database


def sample_entry(n: int) -> LedgerEntry:
    """A realistic verify exchange: one resident, two fields, hashes of request and response."""
    return LedgerEntry(
        kind=EntryKind.EXCHANGE, client_system=f"VN/GOV/{n % 300:03d}/system", service="verify",
        purpose="xác minh nhân thân", result="match" if n % 7 else "no_match", correlation_id=f"c-{n}",
        request_hash=hashlib.sha256(b"q%d" % n).digest(), response_hash=hashlib.sha256(b"r%d" % n).digest(),
        latency_ms=n % 50, relaying_platform="NDXP" if n % 3 else None, legal_basis="Luật Căn cước 2023",
        personal_ids=(f"{n % 10**12:012d}",), fields_disclosed=("full_name", "dob"))
