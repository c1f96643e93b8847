"""Exchange tests use the shared live server and its app object (a test may break the ledger writer and
restore it) — the same app and lifespan as ``dancu serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from dancu.sync.push.settings import get_push_settings


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


@pytest.fixture(autouse=True, scope="session")
def push_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Enrichment pushes spool their batches into a throw-away folder, never into the work tree."""
    settings = get_push_settings()
    before = settings.push_dir
    settings.push_dir = tmp_path_factory.mktemp("push")
    yield settings.push_dir
    settings.push_dir = before
