"""One connection, in libpq pipeline mode, shared by the batchers of one event loop (the lean verify path's
read and the exchange log's writer): each statement is sent at once, behind whatever is still running, and
its results come back in order.

Why share a connection: a round trip costs the client and the server a wake-up each, and on a virtual
machine waking an idle CPU costs several times the round trip itself (``bench/verify_load.py`` prints both).
With the read and the log write on connections of their own, each batch of each kind woke a backend of its
own; sharing one, a backend awake for one kind of batch takes the other too.  Statements on one connection
run one after another, so a caller that must not wait behind a slow one (the read behind a log write's flush)
checks :attr:`PipelinedConnection.in_flight` first (see :mod:`dancu.exchange.lookups`, with the figures).

Each statement is its own implicit transaction, closed by its own ``Sync``: a failing statement fails alone,
and nothing is ever left open between statements.  A statement whose caller is cancelled still runs; its
results are dropped.  If the connection breaks, every statement in flight fails with
:class:`psycopg.OperationalError` and the next one opens a new connection (its statements prepared again).

Statements come here through :meth:`dancu.db.prepared.PreparedStatement.rows` (which checks their text
parameters), as they run on a connection of the caller's own; the helpers below serve both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.errors import error_from_result

if TYPE_CHECKING:
    from dancu.db.prepared import PreparedStatement

log = logging.getLogger(__name__)
DONE = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)


def check_text(params: Sequence[bytes | None]) -> None:
    if any(b"\0" in param for param in params if param is not None):  # libpq would cut the text short
        raise psycopg.DataError("a text parameter cannot contain a NUL byte")


async def use_utf8(conn: psycopg.AsyncConnection[Any]) -> None:
    """The parameters are UTF-8 bytes, whatever the session said."""
    if conn.info.encoding != "utf-8":
        await conn.execute("SET client_encoding TO 'UTF8'")


def loaded_rows(conn: psycopg.AsyncConnection[Any], result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
    """``result``'s rows as tuples, by psycopg's own loaders (its C loaders, the connection's adapters)."""
    loader = Transformer(conn)
    loader.set_pgresult(result)
    return loader.load_rows(0, result.ntuples, tuple)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _InFlight:
    """A statement sent and not yet answered: its caller's future, the results gathered so far, and the name it
    was prepared under in the same round trip (its first use on the connection), if it was."""

    __slots__ = ("future", "prepared", "results")

    def __init__(self, future: asyncio.Future[list[pq.abc.PGresult]], prepared: bytes | None) -> None:
        self.future = future
        self.prepared = prepared
        self.results: list[pq.abc.PGresult] = []


class PipelinedConnection:
    def __init__(self, conninfo: str, setup: Sequence[str] = ()) -> None:
        """``setup``: session statements (``SET …``) run on each new connection before it enters pipeline mode."""
        self.conninfo = conninfo
        self._setup = tuple(setup)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._fd = -1  # the connection's socket, as the event loop watches it (libpq forgets it once lost)
        self._opening: asyncio.Lock | None = None
        self._prepared: set[bytes] = set()
        self._in_flight: deque[_InFlight] = deque()
        self._writable: asyncio.Future[None] | None = None  # set while one caller pushes what libpq holds
        self._closed = False
        self.statements = 0  # sent, for diagnostics and tests

    async def rows(self, statement: PreparedStatement, params: Sequence[bytes | None]) -> list[tuple[Any, ...]]:
        """The statement's rows for ``params`` (checked UTF-8 text, ``None`` for NULL), as tuples."""
        conn = self._conn if self._conn is not None else await self._open()
        pgconn = conn.pgconn
        first_use = statement.name not in self._prepared
        waiting = _InFlight(asyncio.get_running_loop().create_future(), statement.name if first_use else None)
        try:
            if first_use:  # prepared in the same round trip, before its first run (forgotten if that fails)
                pgconn.send_prepare(statement.name, statement.sql)
                self._prepared.add(statement.name)
            pgconn.send_query_prepared(statement.name, params)
            pgconn.pipeline_sync()
        except psycopg.Error as error:
            self._lose(conn, error)
            raise
        self._in_flight.append(waiting)
        self.statements += 1
        await self._send(conn)
        results = await waiting.future
        failed = [result for result in results if result.status not in DONE]
        if failed:
            errors = [r for r in failed if r.status != pq.ExecStatus.PIPELINE_ABORTED]
            if errors:
                raise error_from_result(errors[0], encoding=conn.info.encoding)
            raise psycopg.errors.PipelineAborted("the statement was not run: an earlier one of its sync failed")
        return loaded_rows(conn, results[-1])

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def close(self) -> None:
        """Fail what is still in flight and close the connection."""
        self._closed = True
        if self._conn is not None:
            self._lose(self._conn, psycopg.OperationalError("the pipelined connection was closed"))

    # -- the connection -----------------------------------------------------------------------------
    async def _open(self) -> psycopg.AsyncConnection[Any]:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            self._refuse_if_closed()
            if self._conn is not None:
                return self._conn
            conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            try:
                await use_utf8(conn)
                for statement in self._setup:
                    await conn.execute(statement)
                self._refuse_if_closed()  # closed while connecting
                conn.pgconn.enter_pipeline_mode()
                fd = conn.pgconn.socket
                asyncio.get_running_loop().add_reader(fd, self._on_readable, conn)
            except BaseException:
                await conn.close()
                raise
            self._prepared.clear()
            self._conn, self._fd = conn, fd
            return conn

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise psycopg.OperationalError("the pipelined connection was closed")

    async def _send(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Push what libpq holds into the socket (a non-blocking connection keeps what did not fit).  One caller
        at a time: another one already pushing sends this caller's statement too."""
        if self._writable is not None:
            return
        pgconn, fd = conn.pgconn, self._fd
        loop = asyncio.get_running_loop()
        try:
            while conn is self._conn and pgconn.flush():
                writable: asyncio.Future[None] = loop.create_future()
                self._writable = writable
                loop.add_writer(fd, _settle, writable)
                try:
                    await writable
                finally:
                    if self._writable is writable:  # else _lose took the writer off before the socket closed
                        self._writable = None
                        loop.remove_writer(fd)
        except psycopg.Error as error:
            self._lose(conn, error)

    def _on_readable(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The event loop's callback: hand each statement's results to its caller, in order."""
        if conn is not self._conn:
            return
        pgconn = conn.pgconn
        try:
            pgconn.consume_input()
            while self._in_flight and not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:  # the end of one statement's results; its sync comes next
                    continue
                if result.status == pq.ExecStatus.PIPELINE_SYNC:
                    done = self._in_flight.popleft()
                    if done.prepared is not None and (not done.results or done.results[0].status not in DONE):
                        self._prepared.discard(done.prepared)  # its prepare failed: the next use prepares again
                    if not done.future.done():  # a cancelled caller is not waiting any more
                        done.future.set_result(done.results)
                else:
                    self._in_flight[0].results.append(result)
        except psycopg.Error as error:
            self._lose(conn, error)
            return
        if pgconn.status == pq.ConnStatus.BAD:
            self._lose(conn, psycopg.OperationalError(pgconn.get_error_message() or "the connection was lost"))

    def _lose(self, conn: psycopg.AsyncConnection[Any], error: Exception) -> None:
        """The connection is unusable: every statement in flight fails, the next one reconnects."""
        if conn is self._conn:  # not one lost before: its statements failed then, the new one's are not its
            self._detach(error)
        with contextlib.suppress(Exception):
            conn.pgconn.finish()

    def _detach(self, error: Exception) -> None:
        """Forget the current connection: off the event loop (before its socket closes: a new one may get its
        number), a caller waiting to push woken (it sees the connection gone), every statement in flight failed."""
        self._conn = None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            loop.remove_reader(self._fd)
        if self._writable is not None:
            with contextlib.suppress(Exception):
                loop.remove_writer(self._fd)
            _settle(self._writable)
            self._writable = None
        in_flight, self._in_flight = self._in_flight, deque()
        for waiting in in_flight:
            if not waiting.future.done():
                waiting.future.set_exception(error)
        if in_flight:
            log.warning("pipelined database connection lost", extra={"in_flight": len(in_flight)})
