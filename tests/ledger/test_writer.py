"""Group commit: dense seq under concurrency, receipts that match the rows, all-or-nothing failure."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import hypothesis.strategies as st
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.domain import Receipt, RecordedEntry, entry_leaf_hash
from dancu.ledger.errors import LedgerUnavailable
from dancu.ledger.repository import ENTRY_COLUMNS, recorded_from_row
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry
from tests.ledger.test_domain import recorded


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
    """Fails, once armed, after the numbers are claimed and part of the batch is written: inside the one
    statement (the last entry's client_system NULL: NOT NULL aborts it) or inside the COPY's transaction."""

    armed = threading.Event()

    def _insert(self, conn: psycopg.Connection, params: dict[str, Any]) -> tuple[int, datetime]:
        if self.armed.is_set():
            params = {**params, "client_system": [*params["client_system"][:-1], None]}
        return super()._insert(conn, params)

    def _copy(self, conn: psycopg.Connection, data: bytes) -> None:
        super()._copy(conn, data)  # the rows are written...
        if self.armed.is_set():
            conn.execute("INSERT INTO ledger_entry (seq) VALUES (-1)")  # ...then NOT NULL aborts the transaction


BOTH_PATHS = pytest.mark.parametrize("one_statement", [100, 0], ids=["one-statement", "copy"])


@BOTH_PATHS
def test_a_failed_write_refuses_every_waiter_and_keeps_nothing(empty_ledger: Database, one_statement: int) -> None:
    url = libpq_url(empty_ledger.url)
    with _FailingCopy(lambda: psycopg.connect(url), one_statement=one_statement) as w:
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


@BOTH_PATHS
def test_a_failed_group_refuses_all_of_it(empty_ledger: Database, one_statement: int) -> None:
    url = libpq_url(empty_ledger.url)
    with _FailingCopy(lambda: psycopg.connect(url), one_statement=one_statement) as w:
        _FailingCopy.armed.set()
        try:
            with pytest.raises(LedgerUnavailable):
                asyncio.run(w.append_many_async([make_entry(i) for i in range(20)]))
        finally:
            _FailingCopy.armed.clear()
        assert _rows(empty_ledger) == {}
        assert [r.seq for r in asyncio.run(w.append_many_async([make_entry(1), make_entry(2)]))] == [0, 1]


@BOTH_PATHS
def test_rows_hold_the_entries_exactly_and_their_leaf_hashes_recompute(empty_ledger: Database,
                                                                       one_statement: int) -> None:
    """Both ways of writing a batch store the same rows: in one statement the server computes the stored leaf
    hash from the canonical bytes' pieces, which must equal the receipt's and the verifier's recomputation
    from the columns, for values that need quoting or escaping anywhere."""
    from dancu.ledger.repository import ENTRY_COLUMNS, RECOMPUTED_SQL

    awkward = [
        make_entry(1, purpose='quote " backslash \\ tab \t newline \n end', correlation_id="c-1"),
        make_entry(2, personal_ids=(), fields_disclosed=(), legal_basis=None, correlation_id="c-2"),
        make_entry(3, personal_ids=('00{1,"2"}', "a\\b", "NULL", ""), end_user="Nguyễn Văn Đức ✓",
                   correlation_id="c-3"),
        make_entry(4, error_code="resident_not_found", fields_disclosed=("x,y", "{z}"), correlation_id="c-4"),
    ]
    url = libpq_url(empty_ledger.url)
    with LedgerWriter(lambda: psycopg.connect(url), one_statement=one_statement) as writer:
        receipts = [writer.append(entry) for entry in awkward]
    with empty_ledger.raw_connection() as conn:
        bad = conn.execute(f"SELECT seq FROM ledger_entry WHERE leaf_hash <> {RECOMPUTED_SQL}").fetchall()
        rows = conn.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ledger_entry ORDER BY seq").fetchall()
    assert bad == []
    for entry, receipt, row in zip(awkward, receipts, rows, strict=True):
        stored = dict(zip(ENTRY_COLUMNS, row, strict=True))
        assert (stored["seq"], bytes(stored["leaf_hash"]), stored["recorded_at"]) == (
            receipt.seq, receipt.leaf_hash, receipt.recorded_at)
        assert stored["kind"] == str(entry.kind)
        for name in ("client_system", "relaying_platform", "end_user", "service", "purpose", "legal_basis",
                     "result", "error_code", "latency_ms", "correlation_id"):
            assert stored[name] == getattr(entry, name), name
        assert tuple(stored["personal_ids"]) == entry.personal_ids
        assert tuple(stored["fields_disclosed"]) == entry.fields_disclosed
        assert (bytes(stored["request_hash"]), bytes(stored["response_hash"])) == (entry.request_hash,
                                                                                   entry.response_hash)


class _NoPartitionsMade(LedgerWriter):
    """Never makes partitions ahead, so a batch time in a month without one fails the one statement and
    takes the COPY path, which makes the partition."""

    def _ensure_partitions(self, conn: psycopg.Connection, now: datetime) -> None:
        return None


def test_a_batch_time_without_its_partition_makes_it_and_is_written(empty_ledger: Database) -> None:
    from datetime import UTC

    url = libpq_url(empty_ledger.url)
    month = datetime(2031, 7, 9, 3, 4, 5, 678901, tzinfo=UTC)
    with empty_ledger.raw_connection() as conn:
        before = conn.execute("SELECT to_regclass('ledger_partitions.ledger_entry_2031m07')").fetchone()
    assert before == (None,)
    with _NoPartitionsMade(lambda: psycopg.connect(url), clock=lambda: month) as w:
        receipts = [w.append(make_entry(i)) for i in range(3)]
    assert [r.seq for r in receipts] == [0, 1, 2] and {r.recorded_at for r in receipts} == {month}
    rows = _rows(empty_ledger)
    assert all(rows[r.seq][0] == r.leaf_hash for r in receipts)
    with empty_ledger.raw_connection() as conn:
        assert conn.execute("SELECT count(*) FROM ledger_partitions.ledger_entry_2031m07").fetchone() == (3,)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(recorded(), min_size=1, max_size=5))
def test_generated_entries_are_stored_exactly_by_the_one_statement(writer: LedgerWriter, empty_ledger: Database,
                                                                   items: list[RecordedEntry]) -> None:
    """Generated entries (any text, NULLs, empty and odd arrays, binary hashes) written as one batch by the
    one statement: every row holds the entry, and its stored leaf hash is the definition's."""
    async def run() -> list[Receipt]:
        return await writer.append_many_async([item.entry for item in items])

    receipts = asyncio.run(run())
    with empty_ledger.raw_connection() as conn:
        rows = conn.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ledger_entry WHERE seq = ANY(%s) ORDER BY seq",
                            ([r.seq for r in receipts],)).fetchall()
    for item, receipt, row in zip(items, receipts, rows, strict=True):
        back, leaf = recorded_from_row(dict(zip(ENTRY_COLUMNS, row, strict=True)))
        assert back.entry == item.entry and back.seq == receipt.seq
        assert leaf == receipt.leaf_hash == entry_leaf_hash(RecordedEntry(receipt.seq, receipt.recorded_at, item.entry))


def test_the_writer_keeps_the_gin_pending_list_small(writer: LedgerWriter) -> None:
    """Merging PostgreSQL's default 4 MB pending list of the personal_ids index took ~0.5 s inside one batch,
    under the lock every writer waits on; the writer's session merges at the minimum size instead."""
    writer.append(make_entry(0))
    assert writer._conn is not None
    assert writer._conn.execute("SHOW gin_pending_list_limit").fetchone() == ("64kB",)
