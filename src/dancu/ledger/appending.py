"""Append through the process's one writer (``app.state.ledger_writer``) from wherever the caller runs.

The writer is an object whose ``append`` is awaitable (the exchange's ``LedgerPort``) or a ``LedgerWriter``
(``append_async``); sync routes run in FastAPI's worker threads and reach it with :func:`append_from_thread`.
Either way the call returns once the entry is durable, or raises ``LedgerUnavailable``.
"""

from __future__ import annotations

import inspect
from typing import Any

import anyio.from_thread

from dancu.ledger.domain import LedgerEntry, Receipt


async def append(ledger: Any, item: LedgerEntry) -> Receipt:
    """Await the durable write of ``item`` through whichever writer the process holds."""
    if hasattr(ledger, "append_async"):
        receipt: Receipt = await ledger.append_async(item)
        return receipt
    result = ledger.append(item)
    return await result if inspect.isawaitable(result) else result  # type: ignore[no-any-return]


def append_from_thread(ledger: Any, item: LedgerEntry) -> Receipt:
    """The same, from a sync route running in FastAPI's worker threads."""
    return anyio.from_thread.run(append, ledger, item)
