"""A small pool of psycopg async connections (autocommit) for the exchange's hot path.

psycopg_pool is not a dependency; this is the little we need: connections opened lazily up to a size,
handed out from a queue, and replaced when they come back broken; ``setup`` statements (session settings)
run once on each new connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg


class AsyncPool:
    def __init__(self, conninfo: str, size: int = 8, setup: tuple[str, ...] = ()) -> None:
        self.conninfo = conninfo
        self._size = size
        self._setup = setup
        self._idle: asyncio.Queue[psycopg.AsyncConnection] | None = None
        self._opened = 0
        self._all: set[psycopg.AsyncConnection] = set()

    def _queue(self) -> asyncio.Queue[psycopg.AsyncConnection]:
        if self._idle is None:
            self._idle = asyncio.Queue()
        return self._idle

    async def _take(self) -> psycopg.AsyncConnection:
        idle = self._queue()
        if idle.empty() and self._opened < self._size:
            self._opened += 1
            conn: psycopg.AsyncConnection | None = None
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                for statement in self._setup:
                    await conn.execute(statement)
            except BaseException:
                self._opened -= 1
                if conn is not None:
                    await conn.close()
                raise
            self._all.add(conn)
            return conn
        return await idle.get()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        conn = await self._take()
        try:
            yield conn
        finally:
            if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self._discard(conn)
            else:
                self._queue().put_nowait(conn)

    def _discard(self, conn: psycopg.AsyncConnection) -> None:
        self._all.discard(conn)
        self._opened -= 1
        if not conn.closed:
            asyncio.get_running_loop().create_task(conn.close())

    async def close(self) -> None:
        for conn in list(self._all):
            await conn.close()
        self._all.clear()
        self._opened = 0
        self._idle = None
