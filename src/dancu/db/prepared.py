"""One hot statement run on psycopg's libpq wrapper (:mod:`psycopg.pq`) directly, for the exchange's lean path.

A psycopg ``execute`` costs the event loop 100–150 µs of Python per statement before the database has done
anything: a cursor, the prepared-statement cache, a dumper for each list parameter, result set-up.  For the
read every verify batch makes that was about a third of a worker's CPU per batch at half the benchmark's
rate.  Here the statement is prepared once per connection under a fixed name and run with its parameters
already text (the caller renders them: numbers and array literals), and the rows are loaded by psycopg's own
``Transformer`` (its C loaders, the connection's adapters and time zone): 40–80 µs a statement (measured
2026-12-03, same query, same server).

The connection must be one the caller holds alone and in autocommit (the exchange's dedicated read pool):
psycopg's own lock and transaction bookkeeping are not involved.  Errors are psycopg's own exception classes
(``psycopg.errors``), so callers handle them as they would an ``execute``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import pq
from psycopg.errors import error_from_result

from dancu.db.pipeline import DONE, PipelinedConnection, check_text, loaded_rows, use_utf8

CANCEL_SECONDS = 5.0  # as psycopg waits for a cancelled statement


def text_array(values: Sequence[str]) -> str:
    """A ``text[]`` literal, every element quoted (commas, braces, spaces or ``NULL`` stay inside it)."""
    if not values:
        return "{}"
    plain = "".join(values)
    if '"' in plain or "\\" in plain:
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}'


class PreparedStatement:
    def __init__(self, name: str, sql: str) -> None:
        """``sql`` with ``$1``, ``$2`` … placeholders; ``name`` unique among the connection's statements."""
        self.name, self.sql = name.encode(), sql.encode()
        self._prepared_on: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()

    async def rows(self, conn: psycopg.AsyncConnection[Any] | PipelinedConnection, params: Sequence[bytes | None]
                   ) -> list[tuple[Any, ...]]:
        """The statement's rows for ``params`` (UTF-8 text, ``None`` for NULL), as tuples — on a connection of
        the caller's own, or behind the other statements of a shared :class:`PipelinedConnection`.

        Cancelled while the server runs it on the caller's own connection, the statement is cancelled there too
        (best effort, as psycopg's ``execute`` does) and the connection is left busy: a pool or writer must then
        drop it, never reuse it.  On a pipelined connection it runs on, its results dropped.
        """
        check_text(params)
        if isinstance(conn, PipelinedConnection):
            return await conn.rows(self, params)
        try:
            return await self._run(conn, params)
        except psycopg.errors.InvalidSqlStatementName:  # psycopg deallocated every statement (DEALLOCATE ALL)
            self._prepared_on.discard(conn)
            return await self._run(conn, params)
        except BaseException:
            if conn.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.cancel_safe(), CANCEL_SECONDS)
            raise

    async def _run(self, conn: psycopg.AsyncConnection[Any], params: Sequence[bytes | None]) -> list[tuple[Any, ...]]:
        pgconn = conn.pgconn
        if conn not in self._prepared_on:
            await use_utf8(conn)
            pgconn.send_prepare(self.name, self.sql)
            _check(await _results(pgconn), conn)
            self._prepared_on.add(conn)
        pgconn.send_query_prepared(self.name, params)
        return loaded_rows(conn, _check(await _results(pgconn), conn))


def _check(results: list[pq.abc.PGresult], conn: psycopg.AsyncConnection[Any]) -> pq.abc.PGresult:
    if not results:
        raise psycopg.OperationalError(conn.pgconn.get_error_message() or "the connection returned no result")
    for result in results:
        if result.status not in DONE:
            raise error_from_result(result, encoding=conn.info.encoding)
    return results[-1]


async def _results(pgconn: pq.abc.PGconn) -> list[pq.abc.PGresult]:
    """Send what libpq holds, then every result of the statement sent, waiting on the event loop meanwhile."""
    loop = asyncio.get_running_loop()
    fd = pgconn.socket
    while pgconn.flush():  # a non-blocking connection keeps what did not fit in the socket's buffer
        await _ready(loop, fd, writing=True)
        pgconn.consume_input()  # as libpq asks: read what the server sent meanwhile (an error, a notice)
    results: list[pq.abc.PGresult] = []
    while True:
        pgconn.consume_input()
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                return results
            results.append(result)
        await _ready(loop, fd, writing=False)


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, *, writing: bool) -> None:
    """Until ``fd`` is readable (or, ``writing``, readable or writable)."""
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    if writing:
        loop.add_writer(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
        if writing:
            loop.remove_writer(fd)
