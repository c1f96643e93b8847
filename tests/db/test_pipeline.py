"""One pipelined connection shared by several callers: each gets its own statement's rows, in order, from one
backend; a failing statement fails alone; a lost connection fails what was in flight and the next statement
reconnects; a cancelled caller's statement still runs without confusing anyone else's results."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.db.pipeline import PipelinedConnection
from dancu.db.prepared import PreparedStatement

DOUBLE = PreparedStatement("test_pipe_double", "SELECT $1::int * 2, pg_backend_pid()")
DIVIDE = PreparedStatement("test_pipe_divide", "SELECT 10 / $1::int")
SLEEP = PreparedStatement("test_pipe_sleep", "SELECT pg_sleep($1::float8), pg_backend_pid()")


def _on_pipe(database: Database, work: Callable[[PipelinedConnection], Awaitable[Any]],
             setup: tuple[str, ...] = ()) -> Any:
    async def run() -> Any:
        pipe = PipelinedConnection(libpq_url(database.url), setup)
        try:
            return await work(pipe)
        finally:
            await pipe.close()

    return asyncio.run(run())


def test_callers_at_once_each_get_their_own_rows_from_one_backend(database: Database) -> None:
    async def work(pipe: PipelinedConnection) -> list[list[tuple[Any, ...]]]:
        # the first callers also prepare the statement, in the same round trip
        return list(await asyncio.gather(*(DOUBLE.rows(pipe, [str(n).encode()]) for n in range(200))))

    answers = _on_pipe(database, work)
    assert [rows[0][0] for rows in answers] == [2 * n for n in range(200)]
    assert len({rows[0][1] for rows in answers}) == 1  # one backend answered them all


def test_a_failing_statement_fails_alone(database: Database) -> None:
    async def work(pipe: PipelinedConnection) -> list[Any]:
        outcomes = await asyncio.gather(DIVIDE.rows(pipe, [b"2"]), DIVIDE.rows(pipe, [b"0"]),
                                        DIVIDE.rows(pipe, [b"5"]), return_exceptions=True)
        return [*outcomes, await DIVIDE.rows(pipe, [b"1"])]

    first, failed, third, after = _on_pipe(database, work)
    assert isinstance(failed, psycopg.errors.DivisionByZero)  # psycopg's own class, as an execute raises
    assert (first, third, after) == ([(5,)], [(2,)], [(10,)])


def test_a_statement_that_cannot_be_prepared_raises_its_error_every_time(database: Database) -> None:
    broken = PreparedStatement("test_pipe_broken", "SELEC 1")

    async def work(pipe: PipelinedConnection) -> list[BaseException]:
        errors = []
        for _ in range(2):  # not remembered as prepared: the second try prepares again, same error
            try:
                await broken.rows(pipe, [])
            except psycopg.Error as error:
                errors.append(error)
        errors.append(await DOUBLE.rows(pipe, [b"4"]))  # type: ignore[arg-type]  # the connection still works
        return errors

    first, second, fine = _on_pipe(database, work)
    assert isinstance(first, psycopg.errors.SyntaxError) and isinstance(second, psycopg.errors.SyntaxError)
    assert fine[0][0] == 8  # type: ignore[index]


def test_a_lost_connection_fails_what_was_in_flight_and_the_next_statement_reconnects(database: Database) -> None:
    async def work(pipe: PipelinedConnection) -> tuple[list[Any], int, int]:
        [(_, first_backend)] = await DOUBLE.rows(pipe, [b"1"])
        in_flight = [asyncio.ensure_future(SLEEP.rows(pipe, [b"5"])), asyncio.ensure_future(DOUBLE.rows(pipe, [b"2"]))]
        await asyncio.sleep(0.2)  # both sent: the first sleeping on the server, the second behind it
        async with await psycopg.AsyncConnection.connect(libpq_url(database.url), autocommit=True) as other:
            await other.execute("SELECT pg_terminate_backend(%s)", (first_backend,))
        outcomes = await asyncio.wait_for(asyncio.gather(*in_flight, return_exceptions=True), 10)
        [(value, second_backend)] = await DOUBLE.rows(pipe, [b"21"])  # prepared again on the new connection
        return list(outcomes), value, second_backend - first_backend

    outcomes, value, moved = _on_pipe(database, work)
    assert all(isinstance(outcome, psycopg.OperationalError) for outcome in outcomes)
    assert value == 42 and moved != 0


def test_a_cancelled_caller_leaves_the_others_their_own_results(database: Database) -> None:
    async def work(pipe: PipelinedConnection) -> tuple[bool, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        sleeping = asyncio.ensure_future(SLEEP.rows(pipe, [b"0.3"]))
        behind = asyncio.ensure_future(DOUBLE.rows(pipe, [b"3"]))
        await asyncio.sleep(0.05)
        sleeping.cancel()
        await asyncio.gather(sleeping, return_exceptions=True)
        return sleeping.cancelled(), await behind, await DOUBLE.rows(pipe, [b"4"])

    cancelled, behind, after = _on_pipe(database, work)
    assert cancelled and behind[0][0] == 6 and after[0][0] == 8


def test_the_session_setup_runs_on_the_connection(database: Database) -> None:
    show = PreparedStatement("test_pipe_show", "SELECT current_setting('plan_cache_mode')")

    async def work(pipe: PipelinedConnection) -> Any:
        return await show.rows(pipe, [])

    assert _on_pipe(database, work, ("SET plan_cache_mode = force_generic_plan",)) == [("force_generic_plan",)]


def test_a_nul_byte_is_refused_before_anything_is_sent(database: Database) -> None:
    async def work(pipe: PipelinedConnection) -> int:
        with pytest.raises(psycopg.DataError):
            await DOUBLE.rows(pipe, [b"1\0"])
        return pipe.statements

    assert _on_pipe(database, work) == 0


def test_closing_fails_what_is_in_flight_and_refuses_what_comes_after(database: Database) -> None:
    async def work(pipe: PipelinedConnection) -> tuple[Any, Any]:
        in_flight = asyncio.ensure_future(SLEEP.rows(pipe, [b"2"]))
        await asyncio.sleep(0.1)
        await pipe.close()
        outcome = (await asyncio.gather(in_flight, return_exceptions=True))[0]
        try:
            after: Any = await DOUBLE.rows(pipe, [b"1"])
        except psycopg.OperationalError as error:
            after = error
        return outcome, after

    outcome, after = _on_pipe(database, work)
    assert isinstance(outcome, psycopg.OperationalError) and isinstance(after, psycopg.OperationalError)


def test_a_statement_whose_first_run_fails_stays_prepared(database: Database) -> None:
    first_fails = PreparedStatement("test_pipe_first_fails", "SELECT 100 / $1::int")

    async def work(pipe: PipelinedConnection) -> list[Any]:
        outcomes: list[Any] = []
        for divisor in (b"0", b"4", b"5"):  # prepared with the first run, which fails: not prepared again
            try:
                outcomes.append(await first_fails.rows(pipe, [divisor]))
            except psycopg.Error as error:
                outcomes.append(error)
        return outcomes

    failed, *fine = _on_pipe(database, work)
    assert isinstance(failed, psycopg.errors.DivisionByZero) and fine == [[(25,)], [(20,)]]


def test_a_cancelled_first_use_whose_prepare_failed_is_prepared_again_next_time(database: Database) -> None:
    broken = PreparedStatement("test_pipe_broken_cancelled", "SELEC $1::int")

    async def work(pipe: PipelinedConnection) -> Any:
        await DOUBLE.rows(pipe, [b"1"])  # connected
        first = asyncio.ensure_future(broken.rows(pipe, [b"1"]))
        await asyncio.sleep(0)  # sent, prepare and all
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await DOUBLE.rows(pipe, [b"2"])  # the cancelled one's results have come back by now
        try:
            await broken.rows(pipe, [b"1"])
        except psycopg.Error as error:
            return error

    assert isinstance(_on_pipe(database, work), psycopg.errors.SyntaxError)  # not "does not exist"


def test_large_statements_at_once_are_all_sent(database: Database) -> None:
    length = PreparedStatement("test_pipe_length", "SELECT length($1)")

    async def work(pipe: PipelinedConnection) -> list[Any]:
        big = [bytes([ord("a") + n]) * (3_000_000 + n) for n in range(3)]  # more than a socket buffer each
        return list(await asyncio.wait_for(asyncio.gather(*(length.rows(pipe, [b]) for b in big)), 60))

    assert _on_pipe(database, work) == [[(3_000_000 + n,)] for n in range(3)]


def test_closing_while_connecting_leaves_no_connection_behind(database: Database) -> None:
    async def work(pipe: PipelinedConnection) -> tuple[Any, Any]:
        connecting = asyncio.ensure_future(DOUBLE.rows(pipe, [b"1"]))
        await asyncio.sleep(0)  # the connect has started
        await pipe.close()
        outcome = (await asyncio.gather(connecting, return_exceptions=True))[0]
        return outcome, pipe._conn

    outcome, conn = _on_pipe(database, work)
    assert isinstance(outcome, psycopg.OperationalError) and conn is None
