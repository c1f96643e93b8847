"""A statement run on psycopg's libpq wrapper directly gives what psycopg's own ``execute`` gives: the same
rows and types, the same exception classes, a connection fit for the next statement."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.db.prepared import PreparedStatement

SQL = ("SELECT q.i, q.id, q.name, q.id > 1 AS big, timestamptz '2026-12-03 07:00:00+07' + q.id * interval '1 day', "
       "$3::text FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS q(id, name, i)")


def _with_connection(database: Database, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with await psycopg.AsyncConnection.connect(libpq_url(database.url), autocommit=True) as conn:
            return await work(conn)

    return asyncio.run(run())


def test_rows_and_types_are_those_of_an_execute(database: Database) -> None:
    statement = PreparedStatement("test_rows_and_types", SQL)

    async def work(conn: psycopg.AsyncConnection[Any]) -> tuple[Any, Any, Any]:
        raw = await statement.rows(conn, [b"{1,2,3}", b'{"a","b,\\"c\\"",NULL}', None])
        again = await statement.rows(conn, [b"{4}", b'{"d"}', b"x"])
        cursor = await conn.execute(SQL.replace("$1", "%(ids)s").replace("$2", "%(names)s").replace("$3", "%(x)s"),
                                    {"ids": [1, 2, 3], "names": ["a", 'b,"c"', None], "x": None})
        return raw, again, await cursor.fetchall()

    raw, again, executed = _with_connection(database, work)
    assert raw == executed and [type(v) for v in raw[0]] == [type(v) for v in executed[0]]
    assert raw[1][2] == 'b,"c"' and raw[2][2] is None and raw[0][5] is None
    assert again[0][:3] == (1, 4, "d") and again[0][5] == "x"


def test_it_is_prepared_once_per_connection(database: Database) -> None:
    statement = PreparedStatement("test_prepared_once", "SELECT $1::int + 1")

    async def work(conn: psycopg.AsyncConnection[Any]) -> tuple[list[Any], Any]:
        answers = [await statement.rows(conn, [str(n).encode()]) for n in range(3)]
        cursor = await conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_prepared_once'")
        return answers, await cursor.fetchone()

    answers, prepared = _with_connection(database, work)
    assert answers == [[(1,)], [(2,)], [(3,)]] and prepared == (1,)
    assert _with_connection(database, lambda conn: statement.rows(conn, [b"41"])) == [(42,)]  # a new connection


def test_errors_are_psycopgs_and_leave_the_connection_usable(database: Database) -> None:
    statement = PreparedStatement("test_errors", "SELECT $1::int")

    async def work(conn: psycopg.AsyncConnection[Any]) -> tuple[BaseException, list[Any], Any]:
        with pytest.raises(psycopg.errors.InvalidTextRepresentation) as refused:
            await statement.rows(conn, [b"not a number"])
        return refused.value, await statement.rows(conn, [b"7"]), conn.info.transaction_status

    error, after, status = _with_connection(database, work)
    assert error.sqlstate == "22P02" and after == [(7,)] and status == psycopg.pq.TransactionStatus.IDLE
    broken = PreparedStatement("test_bad_sql", "SELEC 1")
    with pytest.raises(psycopg.errors.SyntaxError):
        _with_connection(database, lambda conn: broken.rows(conn, []))


def test_a_parameter_larger_than_the_socket_buffer_is_sent_whole(database: Database) -> None:
    statement = PreparedStatement("test_large", "SELECT length($1::text)")
    big = b"x" * (8 * 1024 * 1024)
    assert _with_connection(database, lambda conn: statement.rows(conn, [big])) == [(len(big),)]


def test_a_lost_connection_raises_and_shows_closed(database: Database) -> None:
    statement = PreparedStatement("test_lost", "SELECT pg_sleep(0.2), 1")

    async def work(conn: psycopg.AsyncConnection[Any]) -> bool:
        pid = conn.info.backend_pid
        async with await psycopg.AsyncConnection.connect(libpq_url(database.url), autocommit=True) as killer:
            waiting = asyncio.ensure_future(statement.rows(conn, []))
            await asyncio.sleep(0.05)
            await killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(psycopg.OperationalError):
                await waiting
        return conn.closed

    assert _with_connection(database, work) is True


def test_after_psycopg_deallocates_every_statement_it_is_prepared_again(database: Database) -> None:
    statement = PreparedStatement("test_deallocated", "SELECT $1::int * 2")

    async def work(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
        first = await statement.rows(conn, [b"2"])
        await conn.execute("DEALLOCATE ALL")  # what psycopg runs after a rolled-back transaction of its own
        return first + await statement.rows(conn, [b"3"])

    assert _with_connection(database, work) == [(4,), (6,)]


def test_a_nul_byte_is_refused_not_cut_short(database: Database) -> None:
    statement = PreparedStatement("test_nul", "SELECT $1::text")
    with pytest.raises(psycopg.DataError):
        _with_connection(database, lambda conn: statement.rows(conn, [b"before\x00after"]))


def test_parameters_are_utf8_whatever_the_sessions_encoding(database: Database) -> None:
    statement = PreparedStatement("test_encoding", "SELECT $1::text, length($1::text)")

    async def work(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
        await conn.execute("SET client_encoding TO 'LATIN1'")
        return await statement.rows(conn, ["Nguyễn Văn Đức".encode()])

    assert _with_connection(database, work) == [("Nguyễn Văn Đức", 14)]


def test_a_cancelled_statement_is_cancelled_on_the_server_too(database: Database) -> None:
    statement = PreparedStatement("test_cancelled", "SELECT pg_sleep(30)")

    async def work(conn: psycopg.AsyncConnection[Any]) -> Any:
        pid = conn.info.backend_pid
        running = asyncio.ensure_future(statement.rows(conn, []))
        async with await psycopg.AsyncConnection.connect(libpq_url(database.url), autocommit=True) as watcher:
            query = "SELECT state, wait_event FROM pg_stat_activity WHERE pid = %s"
            for _ in range(100):  # until the server is sleeping in it (a bound, not a timing assertion)
                if (await (await watcher.execute(query, (pid,))).fetchone()) == ("active", "PgSleep"):
                    break
                await asyncio.sleep(0.05)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            for _ in range(100):
                state = await (await watcher.execute(query, (pid,))).fetchone()
                if state is not None and state[0] != "active":
                    break
                await asyncio.sleep(0.05)
        assert conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.ACTIVE  # busy: to be dropped
        await conn.close()
        return state

    state = _with_connection(database, work)
    assert state is not None and state[0] != "active"  # the 30 s sleep was cancelled, not left running
