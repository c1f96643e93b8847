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
from dancu.ledger.errors import LedgerUnavailable
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


def test_two_writers_in_one_process_interleave_densely(writer: LedgerWriter, empty_ledger: Database) -> None:
    url = libpq_url(empty_ledger.url)
    with LedgerWriter(lambda: psycopg.connect(url)) as other, ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(lambda i: (writer if i % 2 else other).append(make_entry(i)), range(400)))
    assert sorted(r.seq for r in receipts) == list(range(400))
    rows = _rows(empty_ledger)
    assert all(rows[r.seq][0] == r.leaf_hash for r in receipts)


class _FailingCopy(LedgerWriter):
    """Fails inside the COPY after writing part of the batch, once armed."""

    armed = threading.Event()

    def _copy(self, conn: psycopg.Connection, data: bytes) -> None:
        super()._copy(conn, data)  # the rows are written...
        if self.armed.is_set():
            conn.execute("INSERT INTO ledger_entry (seq) VALUES (-1)")  # ...then NOT NULL aborts the transaction


def test_a_failed_write_refuses_every_waiter_and_keeps_nothing(empty_ledger: Database) -> None:
    url = libpq_url(empty_ledger.url)
    with _FailingCopy(lambda: psycopg.connect(url)) as w:
        w.append(make_entry(0))
        _FailingCopy.armed.set()
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
        _FailingCopy.armed.clear()
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


def test_time_never_goes_back_along_seq_when_clocks_disagree(empty_ledger: Database) -> None:
    from datetime import UTC, datetime

    url = libpq_url(empty_ledger.url)
    ahead, behind = datetime(2027, 3, 2, tzinfo=UTC), datetime(2026, 12, 15, tzinfo=UTC)
    with LedgerWriter(lambda: psycopg.connect(url), clock=lambda: ahead) as fast, \
            LedgerWriter(lambda: psycopg.connect(url), clock=lambda: behind) as slow:
        first = fast.append(make_entry(0))
        second = slow.append(make_entry(1))
    assert (first.seq, second.seq) == (0, 1) and second.recorded_at == ahead  # not the slow clock's time
    with empty_ledger.raw_connection() as conn:
        stored = conn.execute("SELECT recorded_at FROM ledger_entry WHERE seq = 1").fetchone()
    assert stored is not None and stored[0] == ahead


def test_a_group_is_committed_together(writer: LedgerWriter, empty_ledger: Database) -> None:
    async def run() -> tuple[list[Receipt], list[Receipt], Receipt]:
        group = writer.append_many_async([make_entry(i, correlation_id=f"g{i}") for i in range(300)])
        others = asyncio.gather(*(writer.append_async(make_entry(i)) for i in range(50)))
        return await group, list(await others), await writer.append_async(make_entry(999))

    group, others, last = asyncio.run(run())
    assert [r.seq for r in group] == list(range(group[0].seq, group[0].seq + 300))  # consecutive, in order
    assert len({r.recorded_at for r in group}) == 1  # one batch, one commit
    rows = _rows(empty_ledger)
    assert sorted(rows) == list(range(351))
    assert all(rows[r.seq] == (r.leaf_hash, f"g{i}") for i, r in enumerate(group))
    assert asyncio.run(_empty(writer)) == [] and last.seq == 350 and len(others) == 50


async def _empty(writer: LedgerWriter) -> list[Receipt]:
    return await writer.append_many_async([])


def test_a_failed_group_refuses_all_of_it(empty_ledger: Database) -> None:
    url = libpq_url(empty_ledger.url)
    with _FailingCopy(lambda: psycopg.connect(url)) as w:
        _FailingCopy.armed.set()
        try:
            with pytest.raises(LedgerUnavailable):
                asyncio.run(w.append_many_async([make_entry(i) for i in range(20)]))
        finally:
            _FailingCopy.armed.clear()
        assert _rows(empty_ledger) == {}
        assert [r.seq for r in asyncio.run(w.append_many_async([make_entry(1), make_entry(2)]))] == [0, 1]
