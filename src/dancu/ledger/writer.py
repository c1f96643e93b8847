"""Group-commit writer: every caller blocks until its entry is durably committed, many entries per commit.

Each process has one writer: a background thread takes everything queued, claims that many consecutive
``seq`` numbers from the ``ledger_state`` row (whose row lock is held until the batch commits, so batches
of all writer processes reach the table one after another, in seq order), writes the batch with its leaf
hashes, commits, then wakes every waiter.  If anything fails, every waiter of that batch gets
:class:`LedgerUnavailable` and nothing of the batch is kept: the claimed numbers go back too, so seq stays
dense.

Two ways to write a batch, the same rows either way:

- up to ``one_statement`` entries (the ordinary case of a server answering requests: a few to a few dozen
  per batch) — one statement (:data:`INSERT_SQL`), sent in one round trip and committed on its own, claims
  the numbers and inserts the rows; the server computes each leaf hash from the pieces of the entry's
  canonical bytes (``SHA-256(0x00 || head || ts || middle || seq || tail)``, ``recorded_at`` formatted as
  the verifier formats it in SQL).  The ``ledger_state`` row lock, which every worker process's writer
  queues on, is then held only while the server runs the statement and flushes its commit.  As claim,
  ``COPY`` and ``COMMIT`` it was held across three client round trips, each ending with the writer thread
  waiting for the interpreter lock of a busy process: at half the verify benchmark's load it was held three
  quarters of the time, and the other process's batches waited on it;
- larger batches (bulk loads, a burst) — claim, one ``COPY``, commit: three round trips, cheaper per row.

Entries are prepared (the canonical bytes' pieces and COPY text, see :mod:`dancu.ledger.encoding`) by the
caller's thread, so the writer's own work per entry is a few appends or concatenations and one SHA-256.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

from dancu.ledger import repository
from dancu.ledger.domain import LedgerEntry, Receipt, format_time
from dancu.ledger.encoding import Prepared, copy_row, prepare
from dancu.ledger.errors import LedgerUnavailable

log = logging.getLogger(__name__)
Connect = Callable[[], psycopg.Connection]
Outcome = Receipt | BaseException


class _Pending:
    """One queued entry and how to wake its caller: a held lock (threads) or a future (event loops)."""

    __slots__ = ("future", "group", "lock", "loop", "outcome", "prepared")

    def __init__(self, prepared: Prepared, loop: asyncio.AbstractEventLoop | None = None, waits: bool = True) -> None:
        self.prepared = prepared
        self.loop = loop
        self.future: asyncio.Future[Any] | None = loop.create_future() if loop and waits else None
        self.lock: threading.Lock | None = None
        if loop is None:
            self.lock = threading.Lock()
            self.lock.acquire()
        self.outcome: Outcome | None = None
        self.group: list[_Pending] | None = None  # set on the member that answers for a whole group


def describe(cause: BaseException) -> str:
    """What the log says of a failed write: a database error's class, SQLSTATE and primary message only — its
    full text may quote the batch's data (PostgreSQL's CONTEXT for a JSON row), and entries stay out of logs."""
    if isinstance(cause, psycopg.Error) and cause.sqlstate:  # the server's: its DETAIL and CONTEXT left out
        return f"{type(cause).__name__} {cause.sqlstate}: {cause.diag.message_primary or ''}"
    return repr(cause)  # the client's own (a lost connection, a failed send): no data in it


class WriteFailed(Exception):
    """What a refusal chains as its cause: the failure as :func:`describe` tells it, so a caller that logs the
    refusal with its traceback logs no entry data either."""


def unavailable(cause: BaseException | None = None) -> LedgerUnavailable:
    """The refusal every waiter of a failed batch gets (the exchange answers it as a 503)."""
    error = LedgerUnavailable("Không ghi được nhật ký chia sẻ; yêu cầu bị từ chối.",
                              "The exchange log could not be written; the request is refused.")
    error.__cause__ = WriteFailed(describe(cause)) if isinstance(cause, psycopg.Error) else cause
    return error


def _settle(futures: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in futures:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def _group_outcome(group: list[_Pending]) -> list[Receipt] | BaseException:
    outcomes = [member.outcome for member in group]
    failed = next((o for o in outcomes if isinstance(o, BaseException)), None)
    return failed or [o for o in outcomes if isinstance(o, Receipt)]


def _wake(batch: list[_Pending]) -> None:
    """Release thread waiters; hand each event loop its results in one call (not one per entry)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = defaultdict(list)
    for pending in batch:
        assert pending.outcome is not None
        if pending.lock is not None:
            pending.lock.release()
        elif pending.loop is not None and pending.future is not None:
            outcome = _group_outcome(pending.group) if pending.group else pending.outcome
            by_loop[pending.loop].append((pending.future, outcome))
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, futures)
        except RuntimeError:  # the loop was closed while waiting: nobody is left to tell
            log.debug("event loop closed before its ledger receipts arrived")


_COLUMNS = ("kind", "client_system", "relaying_platform", "end_user", "service", "purpose", "legal_basis",
            "personal_ids", "fields_disclosed", "result", "error_code", "request_hash", "response_hash", "latency_ms",
            "correlation_id", "head", "middle", "tail")
_TYPES = {"personal_ids": "text[]", "fields_disclosed": "text[]", "latency_ms": "int4"}
_AS_BYTES = {"request_hash": "decode(r.request_hash, 'hex')", "response_hash": "decode(r.response_hash, 'hex')"}
# One statement: claims the numbers and the batch time (never before the previous batch's), inserts the rows,
# returns the first number and the time.  The rows arrive as one JSON array of objects (one parameter, one
# orjson call): as 18 array parameters psycopg spent 89 µs of Python adapting a one-entry batch, as JSON 7 µs.
# head, middle and tail are UTF-8 JSON text (orjson's), so they travel as text and convert_to gives the bytes.
INSERT_SQL = f"""WITH claim AS (
    UPDATE ledger_state SET next_seq = next_seq + %(n)b, last_recorded_at = greatest(last_recorded_at, %(now)b)
    WHERE id = 1
    RETURNING next_seq - %(n)b AS start, last_recorded_at AS at,
              convert_to(to_char(last_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8') AS ts),
written AS (
    INSERT INTO ledger_entry ({", ".join(repository.ENTRY_COLUMNS)})
    SELECT claim.start + r.i - 1, claim.at, {", ".join(_AS_BYTES.get(c, f"r.{c}") for c in _COLUMNS[:15])},
           sha256('\\x00'::bytea || convert_to(r.head, 'UTF8') || claim.ts || convert_to(r.middle, 'UTF8')
                  || convert_to((claim.start + r.i - 1)::text, 'UTF8') || convert_to(r.tail, 'UTF8'))
    FROM claim, ROWS FROM (json_to_recordset(%(rows)s::json)
                           AS ({", ".join(f"{c} {_TYPES.get(c, 'text')}" for c in _COLUMNS)})) WITH ORDINALITY
         AS r({", ".join(_COLUMNS)}, i))
SELECT start, at FROM claim"""


# The personal_ids GIN index collects new keys in a pending list that the inserting statement merges into the
# index once the list passes this size — under the ledger_state lock, so every writer waits.  At PostgreSQL's
# default of 4 MB (~512 pages, ~150,000 entries) the merge took 450-510 ms, three times in 40 s of 20-entry
# batches (measured 2026-12-02 on the benchmark database); at the minimum, 64 kB, it runs every ~100 batches
# and takes 1-3 ms.
GIN_PENDING_LIST_LIMIT = "64kB"


# The same statement for a connection that prepares it by name (dancu.db.prepared): $1 n, $2 now, $3 rows.
INSERT_SQL_NUMBERED = (INSERT_SQL.replace("%(n)b", "$1::bigint").replace("%(now)b", "$2::timestamptz")
                       .replace("%(rows)s", "$3"))


def insert_params(batch: Sequence[Prepared]) -> dict[str, Any]:
    """:data:`INSERT_SQL`'s parameters for ``batch`` (all but ``now``)."""
    return {"n": len(batch), "rows": rows_json(batch).decode()}


def rows_json(batch: Sequence[Prepared]) -> bytes:
    """The batch's rows as :data:`INSERT_SQL` reads them: one JSON array of objects."""
    rows = []
    for p in batch:
        e = p.entry
        rows.append({
            "kind": str(e.kind), "client_system": e.client_system, "relaying_platform": e.relaying_platform,
            "end_user": e.end_user, "service": e.service, "purpose": e.purpose, "legal_basis": e.legal_basis,
            "personal_ids": e.personal_ids, "fields_disclosed": e.fields_disclosed, "result": e.result,
            "error_code": e.error_code, "request_hash": e.request_hash.hex(), "response_hash": e.response_hash.hex(),
            "latency_ms": e.latency_ms, "correlation_id": e.correlation_id, "head": p.head.decode(),
            "middle": p.middle.decode(), "tail": p.tail.decode()})
    return orjson.dumps(rows)


def ensure_partitions(conn: psycopg.Connection, now: datetime, made: set[datetime]) -> None:
    """This month's and next month's partitions (those not yet in ``made``, which collects them), each in its
    own transaction, before any batch takes the seq lock.

    Creating a partition locks the parent table: a long reader (``verify``) would make it wait, and every
    writer queue behind it.  So it waits at most a second and is retried with the next batch; the next
    month's partition is made a month early, so only a missing current one can fail a batch.
    """
    for month in _months_ahead(now):
        if month in made:
            continue
        try:
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '1s'")
                repository.ensure_partition(conn, month)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):  # another process, same moment
            pass
        except psycopg.errors.LockNotAvailable:
            continue
        made.add(month)


def months_ahead_made(now: datetime, made: set[datetime]) -> bool:
    """Whether this month's and next month's partitions are known to exist."""
    return all(month in made for month in _months_ahead(now))


def _months_ahead(moment: datetime) -> list[datetime]:
    """The first instants of this month and the next (the writer makes sure both partitions exist)."""
    first = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    return [first, following]


class LedgerWriter:
    """Thread-safe; use ``append`` from threads or ``await append_async`` from an event loop.

    Several processes (API workers) may each run their own writer against the same database.
    """

    def __init__(self, connect: Connect, max_batch: int = 20_000, clock: Callable[[], datetime] | None = None,
                 one_statement: int = 100):
        self._connect = connect
        self._max_batch = max_batch
        self._one_statement = one_statement  # batches up to this size are written in one statement
        self._clock = clock or (lambda: datetime.now(UTC))
        self._queue: queue.SimpleQueue[_Pending | list[_Pending] | None] = queue.SimpleQueue()
        self._conn: psycopg.Connection | None = None
        self._next_seq = 0
        self._partitions: set[datetime] = set()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.batches = 0  # committed batches, for diagnostics

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> LedgerWriter:
        """Connect (raising if the database is unreachable) and start the writer thread."""
        self._open()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Write what is queued, then stop."""
        if self._thread:
            self._stopping = True
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> LedgerWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def next_seq(self) -> int:
        """The seq after this writer's last committed batch (other processes may have written beyond it)."""
        return self._next_seq

    def _open(self) -> psycopg.Connection:
        conn = self._connect()
        conn.autocommit = True  # each batch is one statement, committed on its own; transactions are explicit
        conn.execute(f"SET gin_pending_list_limit = '{GIN_PENDING_LIST_LIMIT}'")
        self._next_seq = max(self._next_seq, repository.next_seq(conn))
        self._conn = conn
        return conn

    # -- callers ----------------------------------------------------------------------------------
    def append(self, entry: LedgerEntry) -> Receipt:
        """Block until ``entry`` is committed; its receipt, or LedgerUnavailable."""
        pending = _Pending(prepare(entry))
        self._submit(pending)
        assert pending.lock is not None
        pending.lock.acquire()
        if isinstance(pending.outcome, BaseException):
            raise pending.outcome
        assert pending.outcome is not None
        return pending.outcome

    async def append_async(self, entry: LedgerEntry) -> Receipt:
        """Await the commit of ``entry`` without a thread per caller; its receipt, or LedgerUnavailable."""
        pending = _Pending(prepare(entry), asyncio.get_running_loop())
        self._submit(pending)
        assert pending.future is not None
        receipt: Receipt = await pending.future
        return receipt

    async def append_many_async(self, entries: Sequence[LedgerEntry]) -> list[Receipt]:
        """Await the commit of all ``entries`` together (one batch, one commit, one wake-up); their receipts in
        order, or LedgerUnavailable for all of them."""
        if not entries:
            return []
        loop = asyncio.get_running_loop()
        group = [_Pending(prepare(entry), loop, waits=False) for entry in entries]
        last = group[-1]
        last.future, last.group = loop.create_future(), group
        self._submit(group)
        result: list[Receipt] = await last.future
        return result

    def _submit(self, item: _Pending | list[_Pending]) -> None:
        if self._thread is None or self._stopping:
            pending = item[-1] if isinstance(item, list) else item
            pending.outcome = unavailable(RuntimeError("ledger writer is not running"))
            if pending.future is not None:
                pending.future.set_exception(pending.outcome)
            elif pending.lock is not None:
                pending.lock.release()
            return
        self._queue.put(item)

    # -- the background thread --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch: list[_Pending] = []
            item = self._queue.get()
            while True:
                if isinstance(item, list):  # a group goes whole into one batch: one commit for all of it
                    batch.extend(item)
                elif item is not None:
                    batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
                _wake(batch)
            if self._stopping and self._queue.empty():
                return

    def _write(self, batch: list[_Pending]) -> None:
        try:
            conn = self._conn if self._conn is not None and not self._conn.closed else self._open()
            now = self._clock()
            self._ensure_partitions(conn, now)
            start = self._write_one_statement(conn, batch, now) if len(batch) <= self._one_statement else None
            if start is None:
                start = self._write_copy(conn, batch, now)
        except Exception as cause:  # any failure: refuse every waiter, start clean next time
            log.error("exchange-log write failed", extra={"entries": len(batch), "error": describe(cause)})
            self._discard_connection()
            error = unavailable(cause)
            for pending in batch:
                pending.outcome = error
            return
        self._next_seq = start + len(batch)
        self.batches += 1

    def _write_one_statement(self, conn: psycopg.Connection, batch: list[_Pending], now: datetime) -> int | None:
        """The batch in one statement (see the module's docstring); its first seq, or None when the batch time
        falls in a month without a partition (another process's time, later: the COPY path makes it)."""
        try:
            start, moment = self._insert(conn, {**insert_params([p.prepared for p in batch]), "now": now})
        except psycopg.errors.CheckViolation:  # "no partition of relation ledger_entry found for row"
            return None
        ts = format_time(moment).encode()
        for offset, pending in enumerate(batch):
            pending.outcome = Receipt(start + offset, pending.prepared.leaf_hash(start + offset, ts), moment)
        return start

    def _insert(self, conn: psycopg.Connection, params: dict[str, Any]) -> tuple[int, datetime]:
        row = conn.execute(INSERT_SQL, params, prepare=True).fetchone()  # autocommit: commits on its own
        if row is None:
            raise RuntimeError("ledger_state has no row: run the migrations")
        return int(row[0]), row[1]

    def _write_copy(self, conn: psycopg.Connection, batch: list[_Pending], now: datetime) -> int:
        """Claim, COPY, commit: one transaction of three round trips; the batch's first seq."""
        with conn.transaction():
            start, moment = repository.claim_seqs(conn, len(batch), now)
            if _months_ahead(moment)[0] not in self._partitions:  # the batch time is another process's, later
                repository.ensure_partition(conn, moment)
            ts = format_time(moment).encode()
            rows = []
            for offset, pending in enumerate(batch):
                leaf = pending.prepared.leaf_hash(start + offset, ts)
                pending.outcome = Receipt(start + offset, leaf, moment)
                rows.append(copy_row(pending.prepared, start + offset, ts, leaf))
            self._copy(conn, b"".join(rows))
        return start

    def _copy(self, conn: psycopg.Connection, data: bytes) -> None:
        repository.copy_text(conn, data)

    def _ensure_partitions(self, conn: psycopg.Connection, now: datetime) -> None:
        ensure_partitions(conn, now, self._partitions)

    def _discard_connection(self) -> None:
        # Drop the connection: a commit whose outcome is unknown is settled by the server (both the rows
        # and the claimed numbers, or neither), and the next batch starts on a fresh connection.
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("closing a failed ledger connection", exc_info=True)
        self._conn = None
        self._partitions.clear()
