"""Group commit: dense seq under concurrency, receipts that match the rows, all-or-nothing failure."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.domain import Receipt
from dancu.ledger.errors import LedgerUnavailable, LedgerWriterBusy
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry


def _rows(database: Database) -> dict[int, tuple[bytes, str]]:
    with database.raw_connection() as conn:
        rows = conn.execute("SELECT seq, leaf_hash, correlation_id FROM ledger_entry ORDER BY seq").fetchall()
    return {seq: (bytes(leaf), corr) for seq, leaf, corr in rows}


def test_concurrent_appends_get_dense_seq_and_matching_receipts(writer: LedgerWriter,
                                                                 empty_ledger: Database) -> None:
    def work(thread: int) -> list[tuple[str, Receipt]]:
        out = []
        for i in range(200):
            corr = f"t{thread}-{i}"
            out.append((corr, writer.append(make_entry(i, correlation_id=corr))))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = [r for chunk in pool.map(work, range(8)) for r in chunk]
    rows = _rows(empty_ledger)
    assert sorted(rows) == list(range(1600))
    for corr, receipt in results:
        assert rows[receipt.seq] == (receipt.leaf_hash, corr)


def test_async_appends(writer: LedgerWriter, empty_ledger: Database) -> None:
    async def run() -> list[Receipt]:
        return await asyncio.gather(*(writer.append_async(make_entry(i)) for i in range(50)))

    receipts = asyncio.run(run())
    assert sorted(r.seq for r in receipts) == list(range(50))


def test_restart_continues_the_sequence(empty_ledger: Database) -> None:
    url = libpq_url(empty_ledger.url)
    for expected in (0, 3):
        with LedgerWriter(lambda: psycopg.connect(url)) as w:
            assert [w.append(make_entry(i)).seq for i in range(3)] == list(range(expected, expected + 3))


def test_a_second_writer_fails_loudly(writer: LedgerWriter, empty_ledger: Database) -> None:
    url = libpq_url(empty_ledger.url)
    with pytest.raises(LedgerWriterBusy):
        LedgerWriter(lambda: psycopg.connect(url)).start()


class _FailingCopy(LedgerWriter):
    """Fails inside the COPY after writing part of the batch, once armed."""

    armed = threading.Event()

    def _ensure_partitions(self, receipts: list[Receipt]) -> None:
        super()._ensure_partitions(receipts)
        if self.armed.is_set():
            assert self._conn is not None
            self._conn.execute("INSERT INTO ledger_entry (seq) VALUES (-1)")  # violates NOT NULL: aborts


def test_a_failed_write_refuses_every_waiter_and_keeps_nothing(empty_ledger: Database) -> None:
    url = libpq_url(empty_ledger.url)
    with _FailingCopy(lambda: psycopg.connect(url)) as w:
        w.append(make_entry(0))
        w.armed.set()
        barrier = threading.Barrier(6)

        def attempt(i: int) -> BaseException | Receipt:
            barrier.wait()
            try:
                return w.append(make_entry(i))
            except LedgerUnavailable as error:
                return error

        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(attempt, range(6)))
        assert all(isinstance(o, LedgerUnavailable) for o in outcomes)
        assert outcomes[0].status == 503 and outcomes[0].code == "ledger_unavailable"  # type: ignore[union-attr]
        assert sorted(_rows(empty_ledger)) == [0]
        w.armed.clear()
        assert w.append(make_entry(9)).seq == 1  # recovers, no gap


def test_an_unreachable_database_refuses_the_caller(empty_ledger: Database) -> None:
    url = libpq_url(empty_ledger.url)
    calls = {"n": 0}

    def connect() -> psycopg.Connection:
        calls["n"] += 1
        if calls["n"] > 1:
            raise psycopg.OperationalError("connection refused")
        return psycopg.connect(url)

    with LedgerWriter(connect) as w:
        assert w._conn is not None
        w._conn.close()  # the server goes away
        with pytest.raises(LedgerUnavailable):
            w.append(make_entry(1))
