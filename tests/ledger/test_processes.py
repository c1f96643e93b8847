"""Several writer processes (one per API worker) append to the same log at once."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import psycopg

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger import service
from dancu.ledger.signing import Signer
from dancu.ledger.verify import verify_log
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry

PROCESSES, THREADS, PER_THREAD = 3, 4, 100


def _append_from_one_process(args: tuple[str, int]) -> list[tuple[str, int, bytes]]:
    """Runs in a child process: its own writer, several threads appending."""
    url, process = args
    with LedgerWriter(lambda: psycopg.connect(url)) as writer:
        def work(thread: int) -> list[tuple[str, int, bytes]]:
            out = []
            for i in range(PER_THREAD):
                corr = f"p{process}-t{thread}-{i}"
                receipt = writer.append(make_entry(i, correlation_id=corr))
                out.append((corr, receipt.seq, receipt.leaf_hash))
            return out

        with ThreadPoolExecutor(THREADS) as pool:
            return [r for chunk in pool.map(work, range(THREADS)) for r in chunk]


def test_writer_processes_append_concurrently(empty_ledger: Database, signer: Signer) -> None:
    url = libpq_url(empty_ledger.url)
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = [r for chunk in pool.map(_append_from_one_process, [(url, p) for p in range(PROCESSES)])
                   for r in chunk]
    total = PROCESSES * THREADS * PER_THREAD
    with empty_ledger.raw_connection() as conn:
        rows = {seq: (bytes(leaf), corr) for seq, leaf, corr in
                conn.execute("SELECT seq, leaf_hash, correlation_id FROM ledger_entry").fetchall()}
        times = [t for (t,) in conn.execute("SELECT recorded_at FROM ledger_entry ORDER BY seq").fetchall()]
    assert sorted(rows) == list(range(total))
    assert all(rows[seq] == (leaf, corr) for corr, seq, leaf in results)
    assert times == sorted(times)  # recorded_at never goes backwards along seq
    with empty_ledger.sessions.begin() as session:
        service.publish_tree_head(session, signer)
    with empty_ledger.raw_connection() as conn, empty_ledger.sessions() as session:
        report = verify_log(conn, session, signer.public_key)
    assert report.ok and report.entries == total
