"""Daily quota counted in memory, flushed to ``quota_usage`` every second.

The hot path must not write a row per request: that would be a second durable commit per answer.
Each process keeps, per system, environment (test calls have their own quota) and Vietnamese calendar day,
the stored total it last saw plus what it
admitted since; a background task adds that to the stored counter once a second and takes the new total
(which includes other workers').  Trade-off: with N worker processes, a system can overshoot its quota by
at most what the other workers admit within one flush interval; with one worker the count is exact.
A crash loses at most one second of counting (the exchange log still has every request).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dancu.exchange import repository
from dancu.exchange.pool import AsyncPool
from dancu.policy.service import VIETNAM, quota_day

log = logging.getLogger(__name__)


@dataclass
class _Count:
    stored: int
    pending: int = 0


class QuotaBook:
    def __init__(self, pool: AsyncPool, interval: float = 1.0) -> None:
        self._pool = pool
        self._interval = interval
        self._counts: dict[tuple[int, str, date], _Count] = {}
        self._task: asyncio.Task[None] | None = None

    async def consume(self, system_id: int, limit: int, at: datetime, amount: int = 1,
                      environment: str = "production") -> bool:
        """Admit ``amount`` records (one per verify, a batch's items, a job's lines) against today's ``limit``
        in ``environment``; False when that would exceed it."""
        key = (system_id, environment, quota_day(at))
        count = self._counts.get(key)
        if count is None:
            async with self._pool.connection() as conn:
                stored = await repository.quota_used(conn, *key)
            count = self._counts.setdefault(key, _Count(stored))
        if count.stored + count.pending + amount > limit:
            return False
        count.pending += amount
        return True

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                log.exception("quota flush failed; will retry")

    async def flush(self) -> None:
        today = quota_day(datetime.now(VIETNAM))
        for key, count in list(self._counts.items()):
            if count.pending:
                amount, count.pending = count.pending, 0
                try:
                    async with self._pool.connection() as conn:
                        count.stored = await repository.quota_add(conn, *key, amount)
                except BaseException:
                    count.pending += amount
                    raise
            if key[2] < today:
                del self._counts[key]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.flush()


def seconds_to_midnight(at: datetime) -> int:
    local = at.astimezone(VIETNAM)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - local).total_seconds()))
