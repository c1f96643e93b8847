"""Appends through LedgerWriter (group commit) from concurrent threads, against a raw COPY of the same rows.

    .venv/bin/python bench/ledger_append.py --entries 200000 --writers 16
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dancu.db.engine import libpq_url
from dancu.ledger import repository
from dancu.ledger.domain import LedgerEntry, RecordedEntry, entry_leaf_hash
from dancu.ledger.writer import LedgerWriter
from ledger_common import bench_database, sample_entry


def main(entries: int = 200_000, writers: int = 16, url: str = typer.Option(None, help="PostgreSQL URL")) -> None:
    database = bench_database(url)
    libpq = libpq_url(database.url)
    prepared = [sample_entry(i) for i in range(entries)]
    per_thread = [prepared[t::writers] for t in range(writers)]
    batches: list[int] = []

    with LedgerWriter(lambda: psycopg.connect(libpq)) as writer:
        def work(items: list[LedgerEntry]) -> None:
            for entry in items:
                writer.append(entry)

        threads = [threading.Thread(target=work, args=(items,)) for items in per_thread]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        logged = time.perf_counter() - started
        assert writer.next_seq == entries
    with psycopg.connect(libpq) as conn:
        commits = conn.execute("SELECT count(DISTINCT recorded_at) FROM ledger_entry").fetchone()
        batches.append(int(commits[0]) if commits else 0)
        conn.execute("TRUNCATE ledger_entry")
        conn.commit()
        # the same rows, hashed and written by one COPY in one transaction: the ceiling
        started = time.perf_counter()
        moment = datetime.now(UTC)
        rows = []
        for seq, entry in enumerate(prepared):
            recorded = RecordedEntry(seq, moment, entry)
            rows.append(repository.entry_row(recorded, entry_leaf_hash(recorded)))
        repository.copy_entries(conn, rows)
        conn.commit()
        raw = time.perf_counter() - started
    rate, raw_rate = entries / logged, entries / raw
    print(f"group commit: {entries:,} entries, {writers} writer threads, {batches[0]:,} commits "
          f"(~{entries / max(batches[0], 1):.0f} entries/commit): {logged:.2f} s = {rate:,.0f} entries/s")
    print(f"raw COPY of the same rows (hash + one COPY, one commit): {raw:.2f} s = {raw_rate:,.0f} entries/s")
    print(f"ratio: {rate / raw_rate:.0%} of raw COPY")


if __name__ == "__main__":
    typer.run(main)
