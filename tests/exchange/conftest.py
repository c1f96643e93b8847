"""Exchange tests use the shared live server and its app object (a test may break the ledger writer and
restore it) — the same app and lifespan as ``dancu serve``."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from dancu.agencies.settings import get_agency_settings


@pytest.fixture(autouse=True, scope="session")
def token_signing_key() -> Iterator[None]:
    settings = get_agency_settings()
    before = settings.token_signing_key
    settings.token_signing_key = base64.b64encode(os.urandom(32)).decode()
    yield
    settings.token_signing_key = before


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
