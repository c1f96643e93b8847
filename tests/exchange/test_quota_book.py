"""The quota book against the database, with its counts in the table a server's workers share: two books on
one table are two workers of one server; a book on a table of its own is another server (or a restart)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange import repository
from dancu.exchange.pool import AsyncPool
from dancu.exchange.quota import QuotaBook
from dancu.policy.rate import RateTable, SharedQuotaCounts
from dancu.policy.service import quota_day


def _system() -> int:
    return 10_000_000 + secrets.randbelow(1_000_000_000)  # quota_usage names systems by id only


@asynccontextmanager
async def _servers(database: Database, count: int = 1) -> AsyncIterator[tuple[AsyncPool, list[RateTable]]]:
    """A pool on the test database and ``count`` tables, each the shared table of one server; closed after."""
    pool, tables = AsyncPool(libpq_url(database.url), 2), [RateTable.create() for _ in range(count)]
    try:
        yield pool, tables
    finally:
        await pool.close()
        for table in tables:
            table.close()


def _book(pool: AsyncPool, table: RateTable, interval: float = 1.0) -> QuotaBook:
    """One worker's book: its counts in ``table``."""
    return QuotaBook(pool, interval=interval, shared=SharedQuotaCounts(table))


async def _stored(pool: AsyncPool, system: int, at: datetime) -> int:
    async with pool.connection() as conn:
        return await repository.quota_used(conn, system, "production", quota_day(at))


def test_two_workers_of_one_server_admit_one_quota_between_them(database: Database) -> None:
    async def run() -> tuple[list[bool], list[bool], int, bool]:
        system, now = _system(), datetime.now(UTC)
        async with _servers(database, 2) as (pool, (table, other_table)):
            async with pool.connection() as conn:  # 5 already counted today, by this server before a restart
                await repository.quota_add(conn, system, "production", quota_day(now), 5)
            first, second = _book(pool, table), _book(pool, table)
            admitted = [await book.consume(system, 10, now) for book in (first, second) * 4]  # 8 asks, 5 left
            await first.flush()
            await second.flush()
            stored = await _stored(pool, system, now)
            later = [await book.consume(system, 10, now) for book in (first, second)]
            restarted = _book(pool, other_table)  # reads the stored total
            return admitted, later, stored, await restarted.consume(system, 10, now)

    admitted, later, stored, after_restart = asyncio.run(run())
    assert admitted == [True] * 5 + [False] * 3  # counted per worker, each saw 5 stored and admitted its 4
    assert later == [False, False] and stored == 10 and after_restart is False


def test_each_worker_flushes_what_it_admitted_and_learns_other_servers_counts(database: Database) -> None:
    async def run() -> tuple[int, int | None, bool]:
        system, now = _system(), datetime.now(UTC)
        key = (system, "production", quota_day(now).toordinal())
        async with _servers(database, 2) as (pool, (table, elsewhere)):
            first, second, other_server = _book(pool, table), _book(pool, table), _book(pool, elsewhere)
            assert await first.consume(system, 100, now, amount=3) and await second.consume(system, 100, now, 4)
            assert await other_server.consume(system, 100, now, amount=20)
            await other_server.flush()
            await first.flush()  # stores 3 and reads 23: the other server's 20 join this server's count
            await second.flush()
            counts = SharedQuotaCounts(table)
            return await _stored(pool, system, now), counts.total(key), await first.consume(system, 28, now)

    stored, total, one_more = asyncio.run(run())
    assert stored == 27 and total == 27 and one_more is True  # 27 + 1 ≤ 28


def test_a_past_days_count_is_flushed_and_kept_for_a_late_flush(database: Database) -> None:
    """After midnight a worker flushes yesterday's count once more and lets go of it; the count stays in the
    table through today, so a worker that admitted just before midnight finds it and flushes its share."""
    async def run() -> tuple[int, int | None, int]:
        system, yesterday = _system(), datetime.now(UTC) - timedelta(days=1)
        async with _servers(database) as (pool, (table,)):
            first, late = _book(pool, table), _book(pool, table)
            assert await first.consume(system, 10, yesterday, amount=2)
            await first.flush()
            key = (system, "production", quota_day(yesterday).toordinal())
            assert SharedQuotaCounts(table).total(key) == 2  # kept: not begun again from the stored total
            assert await late.consume(system, 10, yesterday, amount=3)  # found begun: 2 + 3 of 10
            await late.flush()
            await first.flush()  # let go of already: nothing more to flush, no error
            return await _stored(pool, system, yesterday), SharedQuotaCounts(table).total(key), len(first._shared_keys)

    assert asyncio.run(run()) == (5, 5, 0)


def test_closing_a_book_flushes_what_every_worker_left_unflushed(database: Database) -> None:
    """A worker that was killed before its flush leaves its calls in the table; the next flush of any worker
    that counts the same system takes them to the database."""
    async def run() -> int:
        system, now = _system(), datetime.now(UTC)
        async with _servers(database) as (pool, (table,)):
            killed, alive = _book(pool, table), _book(pool, table)
            assert await killed.consume(system, 10, now, amount=4)  # never flushed
            alive.start()
            assert await alive.consume(system, 10, now, amount=1)
            await alive.close()
            return await _stored(pool, system, now)

    assert asyncio.run(run()) == 5


def test_stopping_during_a_flush_writes_its_calls_once(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The book stops while its flush is past the database's commit and not yet back: a stop that cancelled
    it there put the amount back and the last flush wrote it again (counted twice)."""
    committed = asyncio.Event()
    real_add = repository.quota_add

    async def add_then_linger(conn: Any, *args: Any) -> int:
        stored = await real_add(conn, *args)
        committed.set()
        await asyncio.sleep(0.05)  # the answer on its way back
        return stored

    monkeypatch.setattr(repository, "quota_add", add_then_linger)

    async def run() -> int:
        system, now = _system(), datetime.now(UTC)
        async with _servers(database) as (pool, (table,)):
            book = _book(pool, table, interval=0.01)
            book.start()
            assert await book.consume(system, 1_000, now, amount=2)
            await committed.wait()
            await book.close()
            return await _stored(pool, system, now)

    assert asyncio.run(run()) == 2
