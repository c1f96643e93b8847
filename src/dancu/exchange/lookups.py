"""Micro-batched reads for the lean verify path: the requests in flight share one statement.

A psycopg round trip costs the event loop about as much CPU as the rest of a verify request; reading the
caller's standing and the resident for many requests with one ``unnest`` statement makes that cost per
batch instead of per request.  Nothing waits on a timer: a request arriving while every reader is busy
joins the next batch, which starts as soon as a reader is free; with no load a batch is one request and
starts at once.  Each request's statement starts after the request arrived, so a suspension, termination
or revocation committed before it is seen.

The statement runs on connections of its own (:data:`SETUP`): PostgreSQL re-plans a prepared statement on
every execution while its generic plan looks dearer than the custom ones, and here it always does (the
generic plan counts ten rows for the ``unnest``, a custom plan the batch's own size), so a one-request batch
paid 0.4 ms of planning for 0.07 ms of execution — most of a lightly loaded server's database time.  With
generic plans forced it is planned once per connection: 1,001 → 257 µs per one-request statement, round
trip included, and the same ≈ 12 ms for 500 requests (measured 2026-12-02 on the verify benchmark's
database).  Every other statement keeps PostgreSQL's own choice, on the exchange's shared pool.

In the server a batch is read on the connection the exchange log's writer sends its small batches through
(:class:`dancu.db.pipeline.PipelinedConnection`, made by :class:`dancu.exchange.runtime.Runtime`) whenever
nothing runs on it, so one backend wakes for both kinds of batch, and on the reads' own connection while a
log write runs there (a read behind it would wait for the write's flush to disk).  Measured 2026-12-04 at
half the verify benchmark's rate on a 2-core VM, 4 rounds alternated: p99 median 36.1 ms, full rate 3,005
req/s, against 53.9 ms and 2,939 req/s with the read and the writer on connections of their own, and 39.7
ms and 2,830 req/s with every read on the shared connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from dancu.db.pipeline import PipelinedConnection
from dancu.exchange import repository
from dancu.exchange.repository import Standing

Ask = tuple[int, str]
SETUP = ("SET plan_cache_mode = force_generic_plan",)
# batches in flight at once per process: while one is at the database the next one gathers.  One, not two:
# on a busy machine each statement's wake-ups and Python cost more than the wait a second reader saves —
# two readers made smaller batches and more of them (measured 2026-12-03 on the verify benchmark, restarts
# alternated: 3,100 req/s p99 38 / 30 ms with two, 22 / 20 ms with one; wrk 7,060 / 7,218 against 8,262 /
# 7,551 req/s).
READERS = 1


class Lookups:
    def __init__(self, own: PipelinedConnection, readers: int = READERS, max_batch: int = 500,
                 shared: PipelinedConnection | None = None) -> None:
        """``own``: the reads' connection, closed with them; ``shared``: the one the log writer's small batches go
        through (see the module's docstring), taken whenever nothing is in flight on it; its owner closes it."""
        self.own, self.shared = own, shared
        self._readers = readers
        self._max_batch = max_batch
        self._busy = 0
        self._waiting: list[tuple[Ask, asyncio.Future[Standing | None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def on_own_connection(cls, conninfo: str, shared: PipelinedConnection | None = None) -> Lookups:
        """Reading on a connection of their own, with generic plans (see the module's docstring), and on
        ``shared`` while it is idle."""
        return cls(PipelinedConnection(conninfo, SETUP), shared=shared)

    async def close(self) -> None:
        await self.own.close()

    async def standing(self, credential_id: int, personal_id: str) -> Standing | None:
        """What :func:`repository.auth_and_records` says about this one ask (batched with others)."""
        future: asyncio.Future[Standing | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(((credential_id, personal_id), future))
        if self._busy < self._readers:
            self._busy += 1
            task = asyncio.get_running_loop().create_task(self._read())  # next turn: joins this turn's arrivals
            self._tasks.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _read(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
                await self._answer(batch)
        finally:
            self._busy -= 1

    def _connection(self) -> PipelinedConnection:
        """The shared connection while nothing runs on it (its backend is awake for the writer anyway), else
        the reads' own: a read behind a log write would wait for the write's flush to disk."""
        if self.shared is not None and not self.shared.in_flight:
            return self.shared
        return self.own

    async def _answer(self, batch: Sequence[tuple[Ask, asyncio.Future[Standing | None]]]) -> None:
        try:
            found = await repository.auth_and_records(self._connection(), [ask for ask, _ in batch])
        except BaseException as error:  # every request of the batch fails as its own query would have
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, future), standing in zip(batch, found, strict=True):
            if not future.done():
                future.set_result(standing)
