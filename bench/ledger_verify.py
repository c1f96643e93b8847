"""Bulk-creates N log entries (generated server-side, leaf hashes included), publishes signed heads, then
times the full ``verify``.

    .venv/bin/python bench/ledger_verify.py --entries 1000000
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import psycopg
import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dancu.db.engine import libpq_url
from dancu.ledger import repository, service
from dancu.ledger.domain import entry_leaf_hash
from dancu.ledger.signing import Signer
from dancu.ledger.verify import verify_log
from ledger_common import bench_database

CHUNK = 1_000_000
GENERATED = """
INSERT INTO ledger_entry ({columns})
SELECT {columns_but_leaf}, {leaf} FROM (
  SELECT g AS seq, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' AS recorded_at,
         'exchange' AS kind, 'VN/GOV/' || lpad((g %% 300)::text, 3, '0') || '/system' AS client_system,
         CASE WHEN g %% 3 = 0 THEN NULL ELSE 'NDXP' END AS relaying_platform, NULL::text AS end_user,
         'verify' AS service, 'xác minh nhân thân' AS purpose, 'Luật Căn cước 2023' AS legal_basis,
         ARRAY[lpad((g %% 1000000000000)::text, 12, '0')] AS personal_ids,
         ARRAY['full_name', 'dob'] AS fields_disclosed,
         CASE WHEN g %% 7 = 0 THEN 'no_match' ELSE 'match' END AS result, NULL::text AS error_code,
         sha256(('q' || g)::bytea) AS request_hash, sha256(('r' || g)::bytea) AS response_hash,
         (g %% 50)::int AS latency_ms, 'c-' || g AS correlation_id
  FROM generate_series(%(a)s::bigint, %(b)s::bigint - 1) AS g) AS ledger_entry
"""


def _load(conn: psycopg.Connection, entries: int) -> None:
    columns = ", ".join(repository.ENTRY_COLUMNS)
    sql = GENERATED.format(columns=columns, columns_but_leaf=", ".join(repository.ENTRY_COLUMNS[:-1]),
                           leaf=repository.RECOMPUTED_SQL)
    months = conn.execute("SELECT DISTINCT date_trunc('month', timestamptz '2026-01-01 00:00:00+00' + g * "
                          "interval '1 second') FROM generate_series(0, %s::bigint, 86400) g", (entries,))
    for (month,) in months.fetchall():
        repository.ensure_partition(conn, month)
    for start in range(0, entries, CHUNK):
        conn.execute(sql, {"a": start, "b": min(start + CHUNK, entries)})
        conn.commit()
        print(f"  loaded {min(start + CHUNK, entries):,}", flush=True)


def main(entries: int = 1_000_000, url: str = typer.Option(None, help="PostgreSQL URL")) -> None:
    database = bench_database(url)
    libpq = libpq_url(database.url)
    started = time.perf_counter()
    with psycopg.connect(libpq) as conn:
        _load(conn, entries)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ledger_entry")
    print(f"bulk load: {time.perf_counter() - started:.1f} s")
    with database.sessions() as session:  # the server's leaf hashes agree with the Python definition
        sample = random.Random(1).sample(range(entries), min(1000, entries))
        for recorded, stored in repository.entries_at(session, sample):
            assert entry_leaf_hash(recorded) == stored, recorded.seq
    signer = Signer.from_seed(bytes(32))
    started = time.perf_counter()
    for size in (entries // 2, entries):
        with database.sessions.begin() as session:
            service.publish_tree_head(session, signer, upto=size)
    print(f"publishing 2 signed heads: {time.perf_counter() - started:.1f} s")
    with psycopg.connect(libpq) as conn, database.sessions() as session:
        report = verify_log(conn, session, signer.public_key)
    print(f"verify: {report.entries:,} entries, {report.heads} heads, findings: {len(report.findings)}, "
          f"{report.seconds:.1f} s = {report.entries / report.seconds:,.0f} entries/s")


if __name__ == "__main__":
    typer.run(main)
