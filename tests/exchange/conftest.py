"""Exchange tests run against their own uvicorn server, so a test can reach its app (e.g. to break the
ledger writer) — the same app and lifespan as ``dancu serve``."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dancu.agencies.settings import get_agency_settings
from dancu.app import create_app
from dancu.db import Database
from tests.conftest import _free_port


@pytest.fixture(autouse=True, scope="session")
def token_signing_key() -> Iterator[None]:
    settings = get_agency_settings()
    before = settings.token_signing_key
    settings.token_signing_key = base64.b64encode(os.urandom(32)).decode()
    yield
    settings.token_signing_key = before


@pytest.fixture(scope="session")
def exchange_app(database: Database) -> FastAPI:
    return create_app(database)


@pytest.fixture(scope="session")
def exchange_server(exchange_app: FastAPI) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(exchange_app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("exchange test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def xhttp(exchange_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=exchange_server, timeout=30) as client:
        yield client
