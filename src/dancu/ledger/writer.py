"""Group-commit writer: every caller blocks until its entry is durably committed, many entries per commit.

One background thread takes everything queued, assigns consecutive ``seq`` numbers, writes the batch
with one ``COPY`` in one transaction, commits, then wakes every waiter.  If anything fails, every
waiter of that batch gets :class:`LedgerUnavailable` and nothing of the batch is kept.

There is exactly one writer per database: it holds a PostgreSQL advisory lock for its whole life,
so a second writer fails loudly (:class:`LedgerWriterBusy`) instead of forking the tree.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from dancu.ledger import repository
from dancu.ledger.domain import LedgerEntry, Receipt, RecordedEntry, entry_leaf_hash
from dancu.ledger.errors import LedgerUnavailable, LedgerWriterBusy

log = logging.getLogger(__name__)
Connect = Callable[[], psycopg.Connection]


@dataclass
class _Pending:
    entry: LedgerEntry
    done: Callable[[Receipt | None, BaseException | None], None]


@dataclass
class _Batch:
    items: list[_Pending] = field(default_factory=list)


def _unavailable(cause: BaseException) -> LedgerUnavailable:
    error = LedgerUnavailable("Không ghi được nhật ký chia sẻ; yêu cầu bị từ chối.",
                              "The exchange log could not be written; the request is refused.")
    error.__cause__ = cause
    return error


class LedgerWriter:
    """Thread-safe; use ``append`` from threads or ``await append_async`` from an event loop."""

    def __init__(self, connect: Connect, max_batch: int = 10_000, clock: Callable[[], datetime] | None = None):
        self._connect = connect
        self._max_batch = max_batch
        self._clock = clock or (lambda: datetime.now(UTC))
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._conn: psycopg.Connection | None = None
        self._next_seq = 0
        self._last_time = datetime.min.replace(tzinfo=UTC)
        self._months: set[tuple[int, int]] = set()
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> LedgerWriter:
        """Take the single-writer lock and read where the log ends; raises LedgerWriterBusy if held."""
        self._open()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Write what is queued, then stop and release the lock."""
        if self._thread:
            self._stopping = True
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._conn is not None:
            # release explicitly: the server frees a closed session's locks only once its backend has exited
            try:
                repository.release_writer_lock(self._conn)
            except psycopg.Error:
                log.debug("releasing the ledger writer lock", exc_info=True)
            self._conn.close()
            self._conn = None

    def __enter__(self) -> LedgerWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def _open(self) -> None:
        conn = self._connect()
        if not repository.try_writer_lock(conn):
            conn.close()
            raise LedgerWriterBusy("Một tiến trình khác đang giữ quyền ghi nhật ký.",
                                   "Another process holds the exchange-log writer lock.")
        self._next_seq = repository.next_seq(conn)
        self._last_time = max(self._last_time, repository.last_recorded_at(conn) or self._last_time)
        conn.commit()
        self._conn = conn

    # -- callers ----------------------------------------------------------------------------------
    def append(self, entry: LedgerEntry) -> Receipt:
        """Block until ``entry`` is committed; its receipt, or LedgerUnavailable."""
        event = threading.Event()
        outcome: list[Receipt | BaseException | None] = [None]

        def done(receipt: Receipt | None, error: BaseException | None) -> None:
            outcome[0] = error or receipt
            event.set()

        self._submit(_Pending(entry, done))
        event.wait()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        assert outcome[0] is not None
        return outcome[0]

    async def append_async(self, entry: LedgerEntry) -> Receipt:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Receipt] = loop.create_future()

        def settle(receipt: Receipt | None, error: BaseException | None) -> None:
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    assert receipt is not None
                    future.set_result(receipt)

        def done(receipt: Receipt | None, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(settle, receipt, error)

        self._submit(_Pending(entry, done))
        return await future

    def _submit(self, pending: _Pending) -> None:
        if self._thread is None or self._stopping:
            pending.done(None, _unavailable(RuntimeError("ledger writer is not running")))
            return
        self._queue.put(pending)

    # -- the background thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first] if first is not None else []
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
            if batch:
                self._write(batch)
            if self._stopping and self._queue.empty():
                return

    def _write(self, batch: list[_Pending]) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._open()
            assert self._conn is not None
            receipts, rows = self._stamp(batch)
            self._ensure_partitions(receipts)
            repository.copy_entries(self._conn, rows)
            self._conn.commit()
        except Exception as cause:  # any failure: refuse every waiter, start clean next time
            log.error("exchange-log write failed", extra={"entries": len(batch), "error": repr(cause)})
            self._discard_connection()
            error = _unavailable(cause)
            for pending in batch:
                pending.done(None, error)
            return
        self._next_seq += len(batch)
        self._last_time = receipts[-1].recorded_at
        for pending, receipt in zip(batch, receipts, strict=True):
            pending.done(receipt, None)

    def _stamp(self, batch: list[_Pending]) -> tuple[list[Receipt], list[tuple[object, ...]]]:
        # recorded_at never goes backwards along seq, even if the clock does
        moment = max(self._clock(), self._last_time)
        receipts, rows = [], []
        for offset, pending in enumerate(batch):
            recorded = RecordedEntry(self._next_seq + offset, moment, pending.entry)
            leaf = entry_leaf_hash(recorded)
            receipts.append(Receipt(recorded.seq, leaf, moment))
            rows.append(repository.entry_row(recorded, leaf))
        return receipts, rows

    def _ensure_partitions(self, receipts: list[Receipt]) -> None:
        month = (receipts[0].recorded_at.year, receipts[0].recorded_at.month)
        if month not in self._months:
            assert self._conn is not None
            repository.ensure_partition(self._conn, receipts[0].recorded_at)
            self._months.add(month)

    def _discard_connection(self) -> None:
        # Drop the connection (and with it the lock): on reconnect, seq is re-read from the database,
        # so an ambiguous commit can neither leave a gap nor reuse a number.
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("closing a failed ledger connection", exc_info=True)
        self._conn = None
        self._months.clear()
