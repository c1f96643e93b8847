"""The quota book against the database, with its counts in the table a server's workers share: two books on
one table are two workers of one server; a book on a table of its own is another server (or a restart)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange import repository
from dancu.exchange.pool import AsyncPool
from dancu.exchange.quota import QuotaBook
from dancu.policy.rate import RateTable, SharedQuotaCounts
from dancu.policy.service import quota_day


def _system() -> int:
    return 10_000_000 + secrets.randbelow(1_000_000_000)  # quota_usage names systems by id only


async def _stored(pool: AsyncPool, system: int, at: datetime) -> int:
    async with pool.connection() as conn:
        return await repository.quota_used(conn, system, "production", quota_day(at))


def test_two_workers_of_one_server_admit_one_quota_between_them(database: Database) -> None:
    async def run() -> tuple[list[bool], list[bool], int, bool]:
        pool, table, other_table = AsyncPool(libpq_url(database.url), 2), RateTable.create(), RateTable.create()
        system, now = _system(), datetime.now(UTC)
        try:
            async with pool.connection() as conn:  # 5 already counted today, by this server before a restart
                await repository.quota_add(conn, system, "production", quota_day(now), 5)
            first, second = (QuotaBook(pool, shared=SharedQuotaCounts(table)) for _ in range(2))
            admitted = [await book.consume(system, 10, now) for book in (first, second) * 4]  # 8 asks, 5 left
            await first.flush()
            await second.flush()
            stored = await _stored(pool, system, now)
            later = [await book.consume(system, 10, now) for book in (first, second)]
            restarted = QuotaBook(pool, shared=SharedQuotaCounts(other_table))  # reads the stored total
            return admitted, later, stored, await restarted.consume(system, 10, now)
        finally:
            await pool.close()
            table.close()
            other_table.close()

    admitted, later, stored, after_restart = asyncio.run(run())
    assert admitted == [True] * 5 + [False] * 3  # per worker, each would have admitted 5
    assert later == [False, False] and stored == 10 and after_restart is False


def test_each_worker_flushes_what_it_admitted_and_learns_other_servers_counts(database: Database) -> None:
    async def run() -> tuple[int, int | None, bool]:
        pool, table, elsewhere = AsyncPool(libpq_url(database.url), 2), RateTable.create(), RateTable.create()
        system, now = _system(), datetime.now(UTC)
        key = (system, "production", quota_day(now).toordinal())
        try:
            first, second = (QuotaBook(pool, shared=SharedQuotaCounts(table)) for _ in range(2))
            other_server = QuotaBook(pool, shared=SharedQuotaCounts(elsewhere))
            assert await first.consume(system, 100, now, amount=3) and await second.consume(system, 100, now, 4)
            assert await other_server.consume(system, 100, now, amount=20)
            await other_server.flush()
            await first.flush()  # stores 3 and reads 23: the other server's 20 join this server's count
            await second.flush()
            counts = SharedQuotaCounts(table)
            return await _stored(pool, system, now), counts.total(key), await first.consume(system, 28, now)
        finally:
            await pool.close()
            table.close()
            elsewhere.close()

    stored, total, one_more = asyncio.run(run())
    assert stored == 27 and total == 27 and one_more is True  # 27 + 1 ≤ 28


def test_a_past_days_count_is_flushed_then_freed(database: Database) -> None:
    async def run() -> tuple[int, int | None]:
        pool, table = AsyncPool(libpq_url(database.url), 2), RateTable.create()
        system, yesterday = _system(), datetime.now(UTC) - timedelta(days=1)
        try:
            book = QuotaBook(pool, shared=SharedQuotaCounts(table))
            assert await book.consume(system, 10, yesterday, amount=2)
            await book.flush()
            key = (system, "production", quota_day(yesterday).toordinal())
            return await _stored(pool, system, yesterday), SharedQuotaCounts(table).total(key)
        finally:
            await pool.close()
            table.close()

    assert asyncio.run(run()) == (2, None)
