"""The process's one ledger writer, as the exchange uses it: started with the app, awaited per answer.

The writer (:class:`dancu.ledger.loop_writer.LoopWriter`, on the server's event loop) group-commits entries
from every request in flight; each request awaits its own receipt, i.e. its entry is durable, before the
answer is sent.  If the writer cannot start (database down) the port keeps trying on later appends;
meanwhile every append raises ``LedgerUnavailable`` and the exchange answers 503 and discloses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from dancu.ledger.domain import LedgerEntry, Receipt
from dancu.ledger.errors import LedgerUnavailable
from dancu.ledger.loop_writer import LoopWriter
from dancu.ledger.writer import unavailable as unavailable  # the one refusal; tests import it from here

log = logging.getLogger(__name__)


class LedgerPort:
    def __init__(self, conninfo: str, factory: Callable[[str], LoopWriter] = LoopWriter) -> None:
        self._conninfo = conninfo
        self._factory = factory
        self._writer: LoopWriter | None = None
        self._lock: asyncio.Lock | None = None
        self._closed = False

    async def start(self) -> None:
        """Start the writer now; a failure is logged and retried at the next append."""
        try:
            await self._ensure()
        except LedgerUnavailable:
            log.warning("exchange-log writer did not start; will retry on the next exchange")

    async def _ensure(self) -> LoopWriter:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:  # shutting down: no new writer that nobody would close
                raise unavailable()
            if self._writer is None:
                writer = self._factory(self._conninfo)
                try:
                    await writer.start()
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
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.close()
