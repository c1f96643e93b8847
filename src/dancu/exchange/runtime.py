"""What the exchange keeps per process: the DB pool, the ledger writer, quota book, rate limiter,
policy cache, the lean path's batched reads (sharing a pipelined connection with the writer's small batches),
the verify-job runner and the bound on enrichment pushes run at once.  Built and started by the app's
lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import Request

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.db.pipeline import PipelinedConnection
from dancu.exchange import lookups, repository
from dancu.exchange.ledger_port import LedgerPort
from dancu.exchange.lookups import Lookups
from dancu.exchange.pool import AsyncPool
from dancu.exchange.quota import QuotaBook
from dancu.ledger import loop_writer
from dancu.ledger.loop_writer import LoopWriter
from dancu.policy.domain import Policy
from dancu.policy.rate import RateLimiter, SharedRateLimiter, for_this_process, quota_counts_for_this_process

PUSHES_AT_ONCE = 2


@dataclass
class Runtime:
    pool: AsyncPool
    ledger: LedgerPort
    quota: QuotaBook
    # shared by the workers of one server when its supervisor made a table (dancu.policy.rate), else our own
    rate: RateLimiter | SharedRateLimiter = field(default_factory=for_this_process)
    # policy_version rows never change once written (a change is a new version), so caching by id is exact
    policies: dict[int, Policy] = field(default_factory=dict)
    # enrichment pushes synchronised at once by this process (each holds a worker thread and a connection)
    pushes: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(PUSHES_AT_ONCE))
    # the connection the log writer's one-statement batches go through, which the lean path's batched read
    # takes too while it is idle, so one backend wakes for both (dancu.exchange.lookups, dancu.db.pipeline)
    pipe: PipelinedConnection | None = None
    lookups: Lookups = field(init=False)

    def __post_init__(self) -> None:
        self.lookups = Lookups.on_own_connection(self.pool.conninfo, shared=self.pipe)

    @classmethod
    def for_database(cls, database: Database, pool_size: int = 8) -> Runtime:
        url = libpq_url(database.url)
        pool = AsyncPool(url, pool_size)
        pipe = PipelinedConnection(url, lookups.SETUP + loop_writer.SESSION_SETUP)  # both kinds of statement run on it
        ledger = LedgerPort(url, factory=partial(LoopWriter, pipe=pipe))
        # the quota's counts, like the rate's buckets, shared by the server's workers when its supervisor made a table
        return cls(pool, ledger, QuotaBook(pool, shared=quota_counts_for_this_process()), pipe=pipe)

    async def policy(self, policy_version_id: int | None) -> Policy | None:
        if policy_version_id is None:
            return None
        cached = self.policies.get(policy_version_id)
        if cached is None:
            async with self.pool.connection() as conn:
                cached = await repository.policy(conn, policy_version_id)
            if cached is not None:
                self.policies[policy_version_id] = cached
        return cached

    async def start(self) -> None:
        from dancu.exchange.jobs import JobRunner

        self.jobs = JobRunner(self)
        self.quota.start()
        self.jobs.start()
        await self.ledger.start()

    async def stop(self) -> None:
        jobs = getattr(self, "jobs", None)
        if jobs is not None:
            await jobs.stop()
        try:
            await self.quota.close()
        finally:
            await self.ledger.close()
            await self.pool.close()
            await self.lookups.close()
            if self.pipe is not None:  # last: the writer and the lookups are done with it
                await self.pipe.close()


def runtime_of(request: Request) -> Runtime:
    return runtime_of_app(request.app)


def runtime_of_app(app: Any) -> Runtime:
    rt: Runtime = app.state.exchange
    # tests swap the ledger writer through app.state.ledger_writer; the runtime follows
    rt.ledger = app.state.ledger_writer
    return rt
