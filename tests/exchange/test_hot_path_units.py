"""Pieces of the verify hot path, without an HTTP server: the access-token cache, the batched reads (and how
PostgreSQL plans them), the coalesced writes of the HTTP server, giving back a rate token."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dancu.agencies import tokens
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.db.pipeline import PipelinedConnection
from dancu.db.prepared import PreparedStatement
from dancu.exchange import lookups, repository
from dancu.policy.rate import RateLimiter
from dancu.server import _Corked

NOW = datetime.now(UTC)


def _token(key: tokens.PlatformKey, seconds: int = 300, issued: datetime = NOW) -> str:
    return key.issue({"sub": "VN/COM/B1/EKYC", "sid": 7, "cid": 9, "kind": "production"}, issued, seconds)


def test_a_verified_token_is_remembered_until_it_expires() -> None:
    key = tokens.PlatformKey(Ed25519PrivateKey.generate())
    token = _token(key)
    first = tokens.verify_access_token(key, token)
    assert tokens.verify_access_token(key, token) is first  # no second signature check
    # a token remembered while it was valid, and now past its expiry (and the leeway): checked afresh, refused
    stale = _token(key, 300, NOW - timedelta(seconds=400))
    tokens._verified[stale] = (key, jwt.decode(stale, options={"verify_signature": False}))
    with pytest.raises(jwt.ExpiredSignatureError):
        tokens.verify_access_token(key, stale)


def test_a_cached_token_is_not_trusted_under_another_key() -> None:
    key, other = (tokens.PlatformKey(Ed25519PrivateKey.generate()) for _ in range(2))
    token = _token(key)
    tokens.verify_access_token(key, token)
    with pytest.raises(jwt.InvalidSignatureError):
        tokens.verify_access_token(other, token)


def test_a_forged_token_is_never_cached() -> None:
    key = tokens.PlatformKey(Ed25519PrivateKey.generate())
    head, body, _ = _token(key).split(".")
    forged = f"{head}.{body}.{base64.urlsafe_b64encode(b'x' * 64).rstrip(b'=').decode()}"
    for _ in range(2):
        with pytest.raises(jwt.InvalidSignatureError):
            tokens.verify_access_token(key, forged)


def test_concurrent_lookups_share_statements_and_keep_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[list[tuple[int, str]]] = []

    async def fake(conn: object, asks: Sequence[tuple[int, str]]) -> list[Any]:
        statements.append(list(asks))
        await asyncio.sleep(0.001)  # a round trip: later arrivals queue behind it
        return [None if cid == 0 else (f"caller-{cid}", {"personal_id": pid}) for cid, pid in asks]

    monkeypatch.setattr(repository, "auth_and_records", fake)

    async def run() -> list[Any]:
        book = lookups.Lookups(object(), readers=2)  # type: ignore[arg-type]
        return await asyncio.gather(*(book.standing(i % 3, f"{i:012d}") for i in range(100)))

    answers = asyncio.run(run())
    assert answers == [None if i % 3 == 0 else (f"caller-{i % 3}", {"personal_id": f"{i:012d}"})
                       for i in range(100)]
    assert len(statements) <= 4 and sum(len(s) for s in statements) == 100


def test_a_failed_lookup_fails_every_request_of_its_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(conn: object, asks: Sequence[tuple[int, str]]) -> list[Any]:
        raise OSError("connection lost")

    monkeypatch.setattr(repository, "auth_and_records", broken)

    async def run() -> list[Any]:
        book = lookups.Lookups(object())  # type: ignore[arg-type]
        return await asyncio.gather(*(book.standing(1, "001090000001") for _ in range(5)), return_exceptions=True)

    assert all(isinstance(outcome, OSError) for outcome in asyncio.run(run()))


def test_the_batched_read_is_planned_once_per_connection(database: Database) -> None:
    """Left to choose, PostgreSQL plans the read afresh for every batch (its generic plan looks dearer than a
    one-request custom plan); the lookups' connections force the generic plan, planned once."""

    async def run() -> list[tuple[int, int]]:
        book = lookups.Lookups.on_own_connection(libpq_url(database.url))
        try:
            for n in range(10):  # one after another, on one connection (prepared once, then run by name)
                assert await book.standing(-1, f"0010900000{n:02d}") is None  # no such credential
            plans = PreparedStatement("plans", "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                      "WHERE name = 'dancu_auth_and_records'")
            return await plans.rows(book.own, [])
        finally:
            await book.close()

    [(generic, custom)] = asyncio.run(run())
    assert custom == 0 and generic >= 4


def test_a_read_takes_the_shared_connection_while_it_is_idle_and_its_own_while_a_statement_runs_there(
        database: Database) -> None:
    """In the server the log writer's batches go through the shared connection: a read sent behind one would
    wait for its flush to disk, so it goes on the reads' own connection instead."""
    sleep = PreparedStatement("test_shared_sleep", "SELECT pg_sleep($1::float8)")

    async def run() -> tuple[int, int, int, int]:
        url = libpq_url(database.url)
        shared = PipelinedConnection(url, lookups.SETUP)
        book = lookups.Lookups(PipelinedConnection(url, lookups.SETUP), shared=shared)
        try:
            assert await book.standing(-1, "001090000001") is None  # idle: on the shared connection
            on_shared, on_own = shared.statements, book.own.statements
            writing = asyncio.ensure_future(sleep.rows(shared, [b"0.5"]))  # as a log write in flight
            await asyncio.sleep(0.05)
            assert await book.standing(-1, "001090000002") is None  # not behind it: on its own connection
            assert not writing.done()
            await writing
            return on_shared, on_own, shared.statements - on_shared, book.own.statements - on_own
        finally:
            await book.close()
            await shared.close()

    assert asyncio.run(run()) == (1, 0, 1, 1)


class _Transport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_writes_of_one_loop_turn_leave_as_one() -> None:
    async def run() -> _Transport:
        transport = _Transport()
        corked = _Corked(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
        corked.write(b"{}")
        assert transport.sent == [] and corked.get_extra_info("peername") == "info:peername"
        await asyncio.sleep(0)
        corked.write(b"next")
        corked.close()  # flushes first
        return transport

    transport = asyncio.run(run())
    assert transport.sent == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"next"] and transport.closed


def test_a_rate_token_given_back_can_be_taken_again() -> None:
    limiter = RateLimiter()
    assert limiter.allow(1, 1, now=100.0) is None
    assert limiter.allow(1, 1, now=100.0) is not None
    limiter.give_back(1, 1)
    assert limiter.allow(1, 1, now=100.0) is None
    limiter.give_back(2, 1)  # a system never seen: nothing to give back
    assert 2 not in limiter.buckets
