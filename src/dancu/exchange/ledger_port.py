"""The process's one ledger writer, as the exchange uses it: started with the app, awaited per answer.

The writer (``dancu.ledger.writer.LedgerWriter``) group-commits entries from every request in flight;
each request awaits its own receipt, i.e. its entry is durable, before the answer is sent.  If the writer
cannot start (database down) the port keeps trying on later appends; meanwhile every append raises
``LedgerUnavailable`` and the exchange answers 503 and discloses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

from dancu.ledger.domain import LedgerEntry, Receipt
from dancu.ledger.errors import LedgerUnavailable
from dancu.ledger.writer import LedgerWriter

log = logging.getLogger(__name__)


def unavailable() -> LedgerUnavailable:
    return LedgerUnavailable("Không ghi được nhật ký chia sẻ; yêu cầu bị từ chối.",
                             "The exchange log could not be written; the request is refused.")


class LedgerPort:
    def __init__(self, connect: Callable[[], psycopg.Connection],
                 factory: Callable[[Callable[[], psycopg.Connection]], LedgerWriter] = LedgerWriter) -> None:
        self._connect = connect
        self._factory = factory
        self._writer: LedgerWriter | None = None
        self._lock: asyncio.Lock | None = None

    async def start(self) -> None:
        """Start the writer now; a failure is logged and retried at the next append."""
        try:
            await self._ensure()
        except LedgerUnavailable:
            log.warning("exchange-log writer did not start; will retry on the next exchange")

    async def _ensure(self) -> LedgerWriter:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._writer is None:
                writer = self._factory(self._connect)
                try:
                    await asyncio.to_thread(writer.start)
                except Exception as cause:
                    raise unavailable() from cause
                self._writer = writer
            return self._writer

    async def append(self, entry: LedgerEntry) -> Receipt:
        """Durably log ``entry`` (returns once committed), else ``LedgerUnavailable``."""
        writer = self._writer or await self._ensure()
        try:
            return await writer.append_async(entry)
        except LedgerUnavailable:
            raise
        except Exception as cause:
            raise unavailable() from cause

    async def append_many(self, entries: list[LedgerEntry]) -> list[Receipt]:
        return list(await asyncio.gather(*(self.append(e) for e in entries)))

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await asyncio.to_thread(writer.close)
