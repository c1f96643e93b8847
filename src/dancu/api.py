"""Where every capability's router is mounted: the public API for connected systems and the operators' one."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from dancu.agencies.public_routes import router as agencies_public
    from dancu.agencies.routes import router as agencies
    from dancu.catalogs.routes import router as catalogs
    from dancu.citizen.routes import router as citizen
    from dancu.exchange.routes import router as exchange
    from dancu.ledger.routes import router as ledger
    from dancu.operators.openapi import install_operator_openapi
    from dancu.operators.routes import router as operators
    from dancu.registry.routes import router as registry
    from dancu.sync.routes import router as sync

    app.include_router(agencies)
    app.include_router(agencies_public)
    app.include_router(catalogs)
    app.include_router(citizen)
    app.include_router(exchange)
    app.include_router(ledger)
    app.include_router(operators)
    app.include_router(registry)
    app.include_router(sync)
    install_operator_openapi(app)  # after every router: it documents 401/403 on each guarded operation
