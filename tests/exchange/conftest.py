"""Exchange tests use the shared live server and its app object (a test may break the ledger writer and
restore it) — the same app and lifespan as ``dancu serve``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI


@pytest.fixture(scope="session")
def exchange_app(live_app: FastAPI) -> FastAPI:
    return live_app


@pytest.fixture(scope="session")
def exchange_server(live_server: str) -> str:
    return live_server


@pytest.fixture
def xhttp(exchange_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=exchange_server, timeout=30) as client:
        yield client
