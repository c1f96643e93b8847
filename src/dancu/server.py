"""Serving: the ASGI app built from settings (``uvicorn dancu.server:app``) and :func:`run`, which
``dancu serve`` calls with the options the exchange's hot path was measured with.

``app`` is built on first access (module ``__getattr__``), so importing :func:`run` opens no database.
"""

from __future__ import annotations

import asyncio
import gc
from functools import cache
from typing import Any, cast

from fastapi import FastAPI


@cache
def _app() -> FastAPI:
    from dancu.app import create_app
    from dancu.config import get_settings
    from dancu.db import get_database
    from dancu.kit.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(get_database())
    _tune_gc()
    return app


def _tune_gc() -> None:
    """Keep the cyclic garbage collector off the request path.

    The app's own objects (routes, schemas, models: a few hundred thousand, alive for the whole process) are
    moved out of the collector's sight, and collections start after 20,000 net allocations instead of 700.
    A verify request's garbage is freed by reference counting anyway; what the default settings added was a
    collection every few requests and, now and then, a full one over the whole heap: tens of milliseconds
    on the 99th percentile.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def __getattr__(name: str) -> Any:
    if name == "app":
        return _app()
    raise AttributeError(name)


def run(host: str, port: int, workers: int) -> None:
    """uvicorn with uvloop and httptools (C event loop and HTTP parser, when installed: they are
    dependencies on Linux and macOS), no access log (every exchange is in the exchange log already)."""
    import uvicorn

    uvicorn.run("dancu.server:app", host=host, port=port, workers=workers, factory=False, log_config=None,
                access_log=False, loop="auto", http=HTTP, backlog=4096)


class _Corked:
    """A transport whose writes within one event-loop turn go out as one ``send``: uvicorn writes a response's
    head and body separately, which costs a system call and a TCP segment each."""

    __slots__ = ("_buffer", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._buffer: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._buffer:
            self._loop.call_soon(self._flush)
        self._buffer.append(data)

    def _flush(self) -> None:
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: uvicorn's own h11 protocol, as it is
    HTTP: str | type[asyncio.Protocol] = "auto"
else:
    class CorkedHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol writing through :class:`_Corked` (a class at module level: the worker
        processes receive it by pickling)."""

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            corked = _Corked(cast(asyncio.Transport, transport), self.loop)
            super().connection_made(cast(asyncio.Transport, corked))

    HTTP = CorkedHttpToolsProtocol
