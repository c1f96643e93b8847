"""The ASGI application: routers of every capability, problem handlers, metrics, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from dancu import __version__
from dancu.api import include_routers
from dancu.db import Database
from dancu.exchange.lean import FastLaneApp
from dancu.kit.http import install_body_limits, install_metrics, install_problem_handlers, install_problem_openapi

DESCRIPTION = """
**dancu** — Cơ sở dữ liệu quốc gia về dân cư (the national population database) and its data exchange.

Errors are returned as RFC 9457 `application/problem+json` with a stable `code`, a Vietnamese
`title`/`detail` and their English `title_en`/`detail_en`.

Request bodies are capped per operation (`413 payload_too_large`): 1 MiB unless the operation says otherwise.
"""
# Smaller caps than the default (DANCU_MAX_BODY_BYTES, 1 MiB) for routes whose bodies are a few fields; the
# exchange's routes set their own (dancu.exchange.routes.BODY_LIMITS).  Longest prefix wins.
BODY_LIMITS = {"/citizen/": 64 * 1024, "/oauth/token": 64 * 1024}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Per process: the exchange runtime and its one ledger writer (app.state.ledger_writer)."""
    from dancu.exchange.runtime import Runtime

    runtime = Runtime.for_database(app.state.database)
    app.state.exchange = runtime
    app.state.ledger_writer = runtime.ledger
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()


def create_app(database: Database) -> FastAPI:
    # FastAPI with the lean verify path in front (dancu.exchange.lean): same answers, a fraction of the work
    app = FastLaneApp(title="dancu", version=__version__, description=DESCRIPTION, lifespan=_lifespan)
    app.state.database = database
    install_problem_handlers(app)
    install_body_limits(app, BODY_LIMITS)  # inside the metrics, which then count its 413s
    install_metrics(app)
    install_problem_openapi(app)
    include_routers(app)

    @app.get("/healthz", tags=["operations"], summary="Liveness and database reachability")
    def health() -> dict[str, str]:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return app
