"""The event loop's writer: group commit, dense seq, receipts that match the rows, all-or-nothing failure."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.domain import Receipt
from dancu.ledger.errors import LedgerUnavailable
from dancu.ledger.loop_writer import LoopWriter
from dancu.ledger.repository import RECOMPUTED_SQL
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry
from tests.ledger.test_writer import _rows


def _run(database: Database, work: Any, kind: type[LoopWriter] = LoopWriter, **options: Any) -> Any:
    """``work(writer)`` on a started writer of ``kind``, on a new event loop; the writer closed after it."""
    async def main() -> Any:
        writer = await kind(libpq_url(database.url), **options).start()
        try:
            return await work(writer)
        finally:
            await writer.close()

    return asyncio.run(main())


BOTH_PATHS = pytest.mark.parametrize("one_statement", [100, 0], ids=["one-statement", "copy"])


@BOTH_PATHS
def test_requests_in_flight_share_commits_and_get_dense_seq_and_matching_receipts(empty_ledger: Database,
                                                                                  one_statement: int) -> None:
    async def work(writer: LoopWriter) -> tuple[list[Receipt], int]:
        receipts = await asyncio.gather(*(writer.append_async(make_entry(i, correlation_id=f"c{i}"))
                                          for i in range(300)))
        return list(receipts), writer.batches

    receipts, batches = _run(empty_ledger, work, max_batch=100, one_statement=one_statement)
    assert [r.seq for r in receipts] == list(range(300))  # in the order they were appended
    assert batches == 3  # 300 entries in flight at once: three batches of at most 100, not 300 commits
    assert len({r.recorded_at for r in receipts}) <= 3
    rows = _rows(empty_ledger)
    assert all(rows[r.seq] == (r.leaf_hash, f"c{i}") for i, r in enumerate(receipts))
    with empty_ledger.raw_connection() as conn:
        assert conn.execute(f"SELECT count(*) FROM ledger_entry WHERE leaf_hash <> {RECOMPUTED_SQL}").fetchone() == (0,)


def test_a_loop_writer_and_a_thread_writer_at_once_keep_seq_dense(empty_ledger: Database) -> None:
    """Both kinds of writer take turns on the same seq lock while writing at the same time (as the server's
    workers and a command do): every number once, every receipt its row's."""
    url = libpq_url(empty_ledger.url)

    async def work(writer: LoopWriter) -> list[Receipt]:
        with LedgerWriter(lambda: psycopg.connect(url)) as other, ThreadPoolExecutor(4) as pool:
            threads = [asyncio.wrap_future(pool.submit(other.append, make_entry(i, correlation_id=f"t{i}")))
                       for i in range(200)]
            mine = [writer.append_async(make_entry(i, correlation_id=f"l{i}")) for i in range(200)]
            return list(await asyncio.gather(*threads, *mine))

    receipts = _run(empty_ledger, work, one_statement=20, max_batch=40)
    assert sorted(r.seq for r in receipts) == list(range(400))
    rows = _rows(empty_ledger)
    assert all(rows[r.seq][0] == r.leaf_hash for r in receipts)


def test_a_caller_that_goes_away_does_not_stop_the_others(empty_ledger: Database) -> None:
    """A request cancelled (its client gone) while its entry is at the database: the entry is still written,
    and every other caller of the batch gets its receipt."""
    async def work(writer: LoopWriter) -> tuple[list[Receipt], int]:
        tasks = [asyncio.ensure_future(writer.append_async(make_entry(i))) for i in range(5)]
        await asyncio.sleep(0)  # all five are waiting, their batch is starting
        tasks[2].cancel()
        done = await asyncio.wait_for(asyncio.gather(*(t for i, t in enumerate(tasks) if i != 2)), 10)
        return list(done), (await writer.append_async(make_entry(9))).seq

    receipts, after = _run(empty_ledger, work)
    assert [r.seq for r in receipts] == [0, 1, 3, 4] and after == 5
    assert sorted(_rows(empty_ledger)) == list(range(6))


def test_a_stopped_writer_refuses_its_waiters_instead_of_leaving_them_waiting(empty_ledger: Database) -> None:
    """The writing task cancelled (the loop shutting down) mid-batch: its callers and the ones queued after
    them are refused, none is left waiting, and the next append starts cleanly on a new connection."""
    async def work(writer: LoopWriter) -> tuple[list[Any], int]:
        first = [asyncio.ensure_future(writer.append_async(make_entry(i))) for i in range(3)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the batch is at the database
        later = [asyncio.ensure_future(writer.append_async(make_entry(i))) for i in range(3, 5)]
        await asyncio.sleep(0)
        assert writer._drain is not None
        writer._drain.cancel()
        outcomes = await asyncio.wait_for(asyncio.gather(*first, *later, return_exceptions=True), 10)
        return outcomes, (await writer.append_async(make_entry(9))).seq

    outcomes, after = _run(empty_ledger, work)
    assert all(isinstance(o, LedgerUnavailable) for o in outcomes)
    assert sorted(_rows(empty_ledger)) == list(range(after + 1))  # dense: whatever the cancelled batch left


def test_an_entry_alone_is_written_at_once_and_the_sequence_continues_across_writers(empty_ledger: Database) -> None:
    with LedgerWriter(lambda: psycopg.connect(libpq_url(empty_ledger.url))) as thread_writer:
        assert thread_writer.append(make_entry(0)).seq == 0

    async def work(writer: LoopWriter) -> list[int]:
        return [(await writer.append_async(make_entry(i))).seq for i in range(3)]

    assert _run(empty_ledger, work) == [1, 2, 3]
    assert sorted(_rows(empty_ledger)) == [0, 1, 2, 3]


@BOTH_PATHS
def test_a_failed_batch_refuses_all_its_waiters_keeps_nothing_and_leaves_no_gap(empty_ledger: Database,
                                                                               one_statement: int) -> None:
    """One entry the table refuses (client_system is NOT NULL), after the numbers are claimed and the rows
    before it written: the whole batch fails, all its callers are refused, and its numbers go back."""
    async def work(writer: LoopWriter) -> tuple[list[Any], int]:
        await writer.append_async(make_entry(0))
        outcomes = await asyncio.gather(*(writer.append_async(make_entry(i, client_system=None if i == 4 else "x"))
                                          for i in range(6)), return_exceptions=True)
        return outcomes, (await writer.append_async(make_entry(9))).seq

    outcomes, after = _run(empty_ledger, work, one_statement=one_statement)
    assert all(isinstance(o, LedgerUnavailable) for o in outcomes)
    assert outcomes[0].status == 503 and outcomes[0].code == "ledger_unavailable"
    assert after == 1 and sorted(_rows(empty_ledger)) == [0, 1]


@BOTH_PATHS
def test_a_failed_write_is_logged_without_the_entries_data(empty_ledger: Database, one_statement: int,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """The database's own error text may quote the rows (PostgreSQL's CONTEXT for JSON data): the log line
    keeps the error's class, SQLSTATE and primary message, never the entry's values."""
    async def work(writer: LoopWriter) -> list[Any]:
        bad = make_entry(1, purpose="kiểm tra SECRET-MARK \x00", end_user="SECRET-USER")
        return list(await asyncio.gather(writer.append_async(bad), return_exceptions=True))

    with caplog.at_level(logging.ERROR, logger="dancu.ledger.loop_writer"):
        outcomes = _run(empty_ledger, work, one_statement=one_statement)
    assert isinstance(outcomes[0], LedgerUnavailable)
    failed = [r for r in caplog.records if r.getMessage() == "exchange-log write failed"]
    assert failed and all("SECRET" not in str(r.__dict__) for r in failed)
    assert all(getattr(r, "error", "") for r in failed)


def test_a_lost_connection_fails_its_batch_and_the_next_one_reconnects(empty_ledger: Database) -> None:
    async def work(writer: LoopWriter) -> tuple[Any, int]:
        await writer.append_async(make_entry(0))
        assert writer._conn is not None
        backend = writer._conn.info.backend_pid
        with empty_ledger.raw_connection(autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend,))  # waits until it is gone
        lost = await asyncio.gather(writer.append_async(make_entry(1)), return_exceptions=True)
        return lost[0], (await writer.append_async(make_entry(2))).seq

    lost, seq = _run(empty_ledger, work)
    assert isinstance(lost, LedgerUnavailable) and seq == 1
    assert sorted(_rows(empty_ledger)) == [0, 1]


def test_an_unreachable_database_refuses_the_start() -> None:
    async def main() -> None:
        await LoopWriter("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1").start()

    with pytest.raises(psycopg.OperationalError):
        asyncio.run(main())


@BOTH_PATHS
def test_a_later_batch_time_of_another_process_makes_its_partition(empty_ledger: Database,
                                                                    one_statement: int) -> None:
    """Another process's clock ran ahead into a month with no partition yet: the writer makes that month's
    partition and writes the batch there (time never goes back along seq) — the one statement fails on it
    and is retried, the COPY path makes it after its claim."""
    ahead = datetime(2032, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    with empty_ledger.raw_connection(autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS ledger_partitions.ledger_entry_2032m02")  # empty: the log was emptied
        conn.execute("UPDATE ledger_state SET last_recorded_at = %s WHERE id = 1", (ahead,))
        assert conn.execute("SELECT to_regclass('ledger_partitions.ledger_entry_2032m02')").fetchone() == (None,)

    async def work(writer: LoopWriter) -> list[Receipt]:
        return list(await asyncio.gather(*(writer.append_async(make_entry(i)) for i in range(3))))

    receipts = _run(empty_ledger, work, one_statement=one_statement)
    assert [r.seq for r in receipts] == [0, 1, 2] and {r.recorded_at for r in receipts} == {ahead}
    with empty_ledger.raw_connection() as conn:
        assert conn.execute("SELECT count(*) FROM ledger_partitions.ledger_entry_2032m02").fetchone() == (3,)


def test_close_writes_what_is_waiting_and_refuses_what_comes_after(empty_ledger: Database) -> None:
    async def main() -> tuple[list[Receipt], BaseException | None]:
        writer = await LoopWriter(libpq_url(empty_ledger.url)).start()
        waiting = [asyncio.ensure_future(writer.append_async(make_entry(i))) for i in range(5)]
        await asyncio.sleep(0)  # the appends are queued
        await writer.close()
        assert all(w.done() for w in waiting) and writer._conn is None  # written before close returned
        late: BaseException | None = None
        try:
            await writer.append_async(make_entry(9))
        except LedgerUnavailable as error:
            late = error
        return [await w for w in waiting], late

    receipts, late = asyncio.run(main())
    assert sorted(r.seq for r in receipts) == list(range(5)) and isinstance(late, LedgerUnavailable)
    assert sorted(_rows(empty_ledger)) == list(range(5))


def test_the_writer_keeps_the_gin_pending_list_small(empty_ledger: Database) -> None:
    async def work(writer: LoopWriter) -> Any:
        assert writer._conn is not None
        return await (await writer._conn.execute("SHOW gin_pending_list_limit")).fetchone()

    assert _run(empty_ledger, work) == ("64kB",)


def test_a_refusal_chains_a_cause_without_the_rows_and_client_errors_keep_their_message() -> None:
    from dancu.ledger.writer import WriteFailed, describe, unavailable

    lost = psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")
    assert "server closed the connection" in describe(lost)
    assert unavailable(lost).__cause__.__class__ is WriteFailed
    plain = RuntimeError("not the database's")
    assert unavailable(plain).__cause__ is plain


def test_with_a_shared_pipelined_connection_the_one_statement_batches_go_through_it(empty_ledger: Database) -> None:
    """As in the server: the writer's small batches share one connection with the lean read (dancu.db.pipeline)."""
    from dancu.db.pipeline import PipelinedConnection
    from dancu.db.prepared import PreparedStatement
    from dancu.ledger.loop_writer import SESSION_SETUP

    async def main() -> tuple[list[Receipt], int, int, Any]:
        pipe = PipelinedConnection(libpq_url(empty_ledger.url), SESSION_SETUP)
        writer = await LoopWriter(libpq_url(empty_ledger.url), pipe=pipe).start()
        try:
            receipts = await asyncio.gather(*(writer.append_async(make_entry(i, correlation_id=f"c{i}"))
                                              for i in range(50)))
            sent = pipe.statements
            limit = await PreparedStatement("test_gin_limit", "SELECT current_setting('gin_pending_list_limit')"
                                            ).rows(pipe, [])
            return list(receipts), sent, writer.batches, limit
        finally:
            await writer.close()
            await pipe.close()

    receipts, sent, batches, limit = asyncio.run(main())
    assert [r.seq for r in receipts] == list(range(50)) and sent == batches >= 1
    assert limit == [("64kB",)]  # the writer's session setting, on the shared connection
    rows = _rows(empty_ledger)
    assert all(rows[r.seq] == (r.leaf_hash, f"c{i}") for i, r in enumerate(receipts))
