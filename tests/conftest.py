"""Test harness: a real PostgreSQL (the embedded one, or DANCU_TEST_DATABASE_URL's server), migrated and
loaded with the packaged catalogues once per session; one rolled-back transaction per service test; a real
uvicorn server for HTTP tests."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session

from dancu.app import create_app
from dancu.db import Database
from dancu.db import migrate as migrations
from dancu.db.embedded import embedded_server_url
from dancu.db.scratch import scratch_database


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url = os.environ.get("DANCU_TEST_DATABASE_URL")
    if server_url:
        with scratch_database(server_url, prefix="dancu_test") as url:
            yield url
    else:
        yield embedded_server_url(tmp_path_factory.mktemp("embedded"), database="dancu_test")


@pytest.fixture(autouse=True, scope="session")
def token_signing_key() -> Iterator[None]:
    """Every test server signs access tokens with a throw-away key, never one written into the work tree."""
    from dancu.agencies.settings import get_agency_settings

    settings = get_agency_settings()
    before = settings.token_signing_key
    settings.token_signing_key = base64.b64encode(os.urandom(32)).decode()
    yield
    settings.token_signing_key = before


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    from dancu.catalogs.service import load_packaged_catalogs

    migrations.upgrade(database_url)
    db = Database(database_url, pool_size=4)
    with db.sessions.begin() as session:
        load_packaged_catalogs(session)
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session whose every change is rolled back at the end of the test."""
    connection = database.engine.connect()
    transaction = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", autoflush=False)
    try:
        yield db_session
    finally:
        db_session.close()
        transaction.rollback()
        connection.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def operator_tokens(database: Database) -> dict[str, str]:
    """An operator token per role (role name → token); tests.operators.accounts.auth(name) for named accounts."""
    from tests.operators import accounts

    accounts.register(database)
    return {role: accounts.TOKENS[f"role-{role}"] for role in accounts.ACCOUNTS["contract-all"]}


@pytest.fixture(scope="session")
def live_app(database: Database, operator_tokens: dict[str, str]) -> FastAPI:
    """The application object behind ``live_server`` (tests may swap parts of its state and restore them)."""
    return create_app(database)


@pytest.fixture(scope="session")
def live_server(live_app: FastAPI) -> Iterator[str]:
    """The real application served by uvicorn over TCP on a free port."""
    port = _free_port()
    config = uvicorn.Config(live_app, host="127.0.0.1", port=port, log_config=None,
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def broken_ledger(live_app: FastAPI, database: Database) -> Iterator[None]:
    """``live_server``'s exchange log cannot be written while the test runs (every append fails)."""

    from dancu.db.engine import libpq_url
    from dancu.exchange.ledger_port import LedgerPort
    from tests.ledger.reads import FailingWriter

    healthy = live_app.state.ledger_writer
    live_app.state.ledger_writer = LedgerPort(libpq_url(database.url), factory=FailingWriter)
    yield
    live_app.state.ledger_writer = healthy


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client
