"""Daily quota counted in memory, flushed to ``quota_usage`` every second.

The hot path must not write a row per request: that would be a second durable commit per answer.  Counts
are kept per system, environment (test calls have their own quota) and Vietnamese calendar day: the stored
total last seen plus what was admitted since.  A background task adds what was admitted to the stored
counter once a second and takes the new total (which includes other servers').

Where the counts live:

- under ``dancu serve``'s supervisor (Linux), in the table of counters it shares with its workers
  (:class:`dancu.policy.rate.SharedQuotaCounts`): every worker admits against one total, so a quota holds
  for the whole server, whatever its number of workers.  The first worker to meet a system's day reads the
  stored total; a worker's flush takes what every worker admitted and nobody has flushed yet and adds it to
  the stored counter (so a killed worker's calls reach it too, if another worker counts that system that
  day; otherwise they stay counted in the table only);
- otherwise (one process, the tests, tools; a full table), in the process: with N worker processes a system
  could then overshoot its quota by what the other workers admit within one flush interval.

Several servers behind one load balancer meet only in the database: a quota can be overshot by what the
other servers admit within one flush interval.  A crash loses at most one second of counting (the exchange
log still has every request).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dancu.exchange import repository
from dancu.exchange.pool import AsyncPool
from dancu.policy.rate import SharedQuotaCounts
from dancu.policy.service import VIETNAM, quota_day

log = logging.getLogger(__name__)


@dataclass
class _Count:
    stored: int
    pending: int = 0


class QuotaBook:
    def __init__(self, pool: AsyncPool, interval: float = 1.0, shared: SharedQuotaCounts | None = None) -> None:
        self._pool = pool
        self._interval = interval
        self._shared = shared
        self._counts: dict[tuple[int, str, date], _Count] = {}  # counted in this process
        self._shared_keys: set[tuple[int, str, date]] = set()  # counted in the shared table, flushed from here too
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._warned = False

    async def consume(self, system_id: int, limit: int, at: datetime, amount: int = 1,
                      environment: str = "production") -> bool:
        """Admit ``amount`` records (one per verify, a batch's items, a job's lines) against today's ``limit``
        in ``environment``; False when that would exceed it."""
        key = (system_id, environment, quota_day(at))
        if self._shared is not None and key not in self._counts:
            admitted = await self._consume_shared(self._shared, key, limit, amount)
            if admitted is not None:
                return admitted
        count = self._counts.get(key)
        if count is None:
            async with self._pool.connection() as conn:
                stored = await repository.quota_used(conn, *key)
            count = self._counts.setdefault(key, _Count(stored))
        if count.stored + count.pending + amount > limit:
            return False
        count.pending += amount
        return True

    async def _consume_shared(self, shared: SharedQuotaCounts, key: tuple[int, str, date], limit: int,
                              amount: int) -> bool | None:
        """As :meth:`consume`, against the count every worker shares; None when the table has no room for it."""
        slot = _slot(key)
        admitted = shared.admit(slot, amount, limit)
        if admitted is None:  # nobody began today's count: the stored total, then begin (unless another did)
            async with self._pool.connection() as conn:
                stored = await repository.quota_used(conn, *key)
            if shared.begin(slot, stored):
                admitted = shared.admit(slot, amount, limit)
        if admitted is None and not self._warned:
            self._warned = True
            log.warning("quota table full: some systems' quotas are counted per worker process")
        if admitted is not None:
            self._shared_keys.add(key)
        return admitted

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(self._stopping))

    async def _run(self, stopping: asyncio.Event) -> None:
        """Flush every interval until told to stop — never cancelled in the middle of a flush, whose write may
        have committed already (putting its amount back would count it twice)."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval)
            if stopping.is_set():
                return
            try:
                await self.flush()
            except Exception:
                log.exception("quota flush failed; will retry")

    async def flush(self) -> None:
        today = quota_day(datetime.now(VIETNAM))
        for key in list(self._shared_keys):
            if key[2] < today:  # this process is done with it (the count stays in the table for a late flush)
                self._shared_keys.discard(key)
            try:
                await self._flush_shared(key)
            except BaseException:
                self._shared_keys.add(key)
                raise
        for key, count in list(self._counts.items()):
            if count.pending:
                amount, count.pending = count.pending, 0
                try:
                    count.stored = await self._store(key, amount)
                except BaseException:
                    count.pending += amount
                    raise
            if key[2] < today:
                del self._counts[key]

    async def _flush_shared(self, key: tuple[int, str, date]) -> None:
        assert self._shared is not None
        slot = _slot(key)
        amount = self._shared.take(slot)
        if not amount:
            return
        try:
            stored = await self._store(key, amount)
        except BaseException:
            if not self._shared.untake(slot, amount):
                log.warning("quota count gone from the table before its flush; not stored",
                            extra={"system_id": key[0], "day": key[2].isoformat(), "amount": amount})
            raise
        self._shared.flushed(slot, amount, stored)

    async def _store(self, key: tuple[int, str, date], amount: int) -> int:
        """Add ``amount`` to the stored counter; its new total (other workers' and servers' calls included)."""
        async with self._pool.connection() as conn:
            return await repository.quota_add(conn, *key, amount)

    async def close(self) -> None:
        if self._task is not None:
            self._stopping.set()
            await self._task  # lets a flush in progress finish, then the last one below
            self._task = None
        await self.flush()


def _slot(key: tuple[int, str, date]) -> tuple[int, str, int]:
    """A count's key in the shared table: the day as its ordinal."""
    return key[0], key[1], key[2].toordinal()


def seconds_to_midnight(at: datetime) -> int:
    local = at.astimezone(VIETNAM)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - local).total_seconds()))
