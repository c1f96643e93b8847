"""Per-system rate limit (requests per second) as a token bucket.

It counts requests, one token each, whatever a request carries: the bucket holds at most ``rate`` tokens, so
a request charged by its size (a batch's items) would be refused every time once larger than the rate.  What
a request carries is counted by the daily quota (records).

Buckets are keyed by what the exchange meters — a system in one environment, ``(system_id, "test")`` or
``(system_id, "production")`` — so a system's test calls never spend its production rate, nor the reverse.

Where they live:

- :class:`RateLimiter` — in the process (one worker, the tests, tools);
- :class:`SharedRateLimiter` — in a :class:`RateTable` that every worker process of one ``dancu serve``
  (its ``SO_REUSEPORT`` supervisor) maps, so a system's ``rate_per_second`` holds for the whole server,
  whatever the number of workers.  The table is an anonymous file (``memfd``; elsewhere a temporary file
  removed at once) that the supervisor makes and hands each worker as a file descriptor, as it hands the
  listening socket: nothing on disk that a cleaner, another server or a logout could remove, nothing left
  behind by a killed supervisor.  Each bucket is updated under an ``fcntl`` lock of the table: the kernel
  releases it when its holder dies, so a worker killed mid-update cannot stall the others, as a held
  semaphore would.  The table outlives any one worker: a replaced worker finds the buckets as they were.

The table's second region holds the daily quota's counts (:class:`SharedQuotaCounts`, used by
:class:`dancu.exchange.quota.QuotaBook`), under a lock of its own (an ``fcntl`` byte range), so a system's
quota too holds for the whole server.  A worker handed a table of the previous release (rate buckets only)
counts the quota in its own process.

Under uvicorn's own supervisor (macOS, Windows) each worker keeps its own buckets.  Several servers (hosts)
behind one load balancer each keep their own table: the rate then holds per server.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import struct
import tempfile
import threading
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from multiprocessing.reduction import DupFd

from dancu.policy.domain import Denial, Rule

log = logging.getLogger(__name__)


def _refilled(tokens: float, rate: int, elapsed: float) -> float:
    """A bucket's tokens ``elapsed`` seconds later: ``rate`` a second, never more than ``rate``, never fewer
    for a clock read earlier (another process's, in a shared table)."""
    return min(float(rate), tokens + max(0.0, elapsed) * rate)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    buckets: dict[Hashable, _Bucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: Hashable, rate: int, now: float) -> Denial | None:
        """Take one request's token from ``key``'s bucket (``now`` in seconds, monotonic); a ``rate_limited``
        denial when empty."""
        if rate <= 0:
            return Denial(Rule.RATE_LIMITED, value="0")
        with self.lock:
            bucket = self.buckets.setdefault(key, _Bucket(float(rate), now))
            bucket.tokens = _refilled(bucket.tokens, rate, now - bucket.updated)
            bucket.updated = now
            if bucket.tokens < 1:
                return Denial(Rule.RATE_LIMITED, value=str(rate))
            bucket.tokens -= 1
            return None

    def give_back(self, key: Hashable, rate: int) -> None:
        """Return the token of a request that was then refused for another reason (it is retried)."""
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(float(rate), bucket.tokens + 1)


# -- shared by the worker processes of one server -------------------------------------------------------------
_MAGIC = b"DANCURT2"  # rate buckets, then daily-quota counts
_MAGIC_RATE_ONLY = b"DANCURT1"  # a table made by the previous release's supervisor: rate buckets only
_HEADER = struct.Struct("<8sI4x")  # magic, slot count (rate buckets; as many quota counts)
_SLOT = struct.Struct("<qdd")  # key (0: empty), tokens, updated (monotonic seconds)
_QUOTA_SLOT = struct.Struct("<qqqq")  # key (0: empty), day (ordinal), total, unflushed
_ENVIRONMENTS = {"production": 1, "test": 2}
SLOTS = 1 << 16  # systems × environments the table holds: far more than a national exchange connects
PROBES = 64  # slots tried from a key's home slot before the table counts as full for it


class RateTable:
    """The buckets' memory: an open file descriptor of an anonymous file.  Pickled into a worker process's
    arguments it arrives there as that process's own descriptor of the same file (as a socket does)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def create(cls, slots: int = SLOTS) -> RateTable:
        if slots <= 0 or slots & (slots - 1):
            raise ValueError("slots must be a power of two")
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("dancu-rate", os.MFD_CLOEXEC)
        else:  # no memfd (macOS, FreeBSD < 13): a temporary file, its name removed at once
            fd, name = tempfile.mkstemp(prefix="dancu-rate-")
            os.unlink(name)
        try:
            os.write(fd, _HEADER.pack(_MAGIC, slots))
            os.ftruncate(fd, _table_size(_MAGIC, slots))  # the rest reads as zeros: every slot empty
        except OSError:
            os.close(fd)
            raise
        return cls(fd)

    def close(self) -> None:
        os.close(self.fd)

    def __reduce__(self) -> tuple[object, tuple[object]]:
        return _received, (DupFd(self.fd),)


def _received(duplicate: object) -> RateTable:
    return RateTable(duplicate.detach())  # type: ignore[attr-defined]


def _table_size(magic: bytes, slots: int) -> int:
    return _HEADER.size + slots * _SLOT.size + (slots * _QUOTA_SLOT.size if magic == _MAGIC else 0)


def _header(table: RateTable) -> tuple[bytes, int]:
    """The table's magic and slot count, read without mapping it (a map closed again would close a descriptor
    of the file, and closing any descriptor drops every ``fcntl`` lock the process holds on it); ValueError when
    it is not a rate table."""
    try:
        head, size = os.pread(table.fd, _HEADER.size, 0), os.fstat(table.fd).st_size
    except OSError as error:
        raise ValueError("not a rate table") from error
    magic, slots = _HEADER.unpack(head) if len(head) == _HEADER.size else (b"", 0)
    if magic not in (_MAGIC, _MAGIC_RATE_ONLY) or slots <= 0 or size != _table_size(magic, slots):
        raise ValueError("not a rate table")
    return magic, slots


def _mapped(table: RateTable) -> tuple[mmap.mmap, bytes, int]:
    """The table mapped, its magic and slot count; ValueError when it is not a rate table."""
    magic, slots = _header(table)
    return mmap.mmap(table.fd, 0), magic, slots


def _shift(slots: int) -> int:
    """The right shift that turns a 64-bit Fibonacci hash into a slot number of a ``slots``-slot region."""
    return 64 - slots.bit_length() + 1


def _home(code: int, shift: int) -> int:
    return ((code * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> shift  # Fibonacci hashing


class _LockedRange:
    """A byte range of the table, locked for one thread of one process at a time: ``fcntl`` locks belong to
    the process (its threads take turns on a threading lock), and a range of its own lets the rate buckets and
    the quota counts be updated at once."""

    def __init__(self, fd: int, start: int, length: int) -> None:
        import fcntl  # POSIX only; the supervisor that shares a table runs where SO_REUSEPORT balances

        self._lockf, self._lock_ex, self._unlock = fcntl.lockf, fcntl.LOCK_EX, fcntl.LOCK_UN
        self._fd, self._start, self._length = fd, start, length
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._threads:
            self._lockf(self._fd, self._lock_ex, self._length, self._start)
            try:
                yield
            finally:
                self._lockf(self._fd, self._unlock, self._length, self._start)


class SharedRateLimiter:
    """:class:`RateLimiter`'s buckets in a :class:`RateTable` (see the module's docstring).  One per process
    and table (:func:`for_this_process`): ``fcntl`` locks belong to the process, not to a descriptor."""

    def __init__(self, table: RateTable) -> None:
        self._map, _, self._slots = _mapped(table)
        self._range = _LockedRange(table.fd, 0, _HEADER.size + self._slots * _SLOT.size)  # the quota's apart
        self._shift = _shift(self._slots)
        self._overflow = RateLimiter()  # keys that find no slot (a full table): counted per process
        self._warned = False

    def allow(self, key: tuple[int, str], rate: int, now: float) -> Denial | None:
        """As :meth:`RateLimiter.allow`, the bucket shared with every process mapping the table."""
        if rate <= 0:
            return Denial(Rule.RATE_LIMITED, value="0")
        code = _code(key)
        with self._slot(code) as offset:
            if offset is None:
                return self._full(key, rate, now)
            stored, tokens, updated = _SLOT.unpack_from(self._map, offset)
            if stored == 0:  # a new bucket starts full, as RateLimiter's
                tokens, updated = float(rate), now
            tokens = _refilled(tokens, rate, now - updated)
            allowed = tokens >= 1
            _SLOT.pack_into(self._map, offset, code, tokens - 1 if allowed else tokens, max(now, updated))
        return None if allowed else Denial(Rule.RATE_LIMITED, value=str(rate))

    def give_back(self, key: tuple[int, str], rate: int) -> None:
        """As :meth:`RateLimiter.give_back`."""
        code = _code(key)
        with self._slot(code) as offset:
            if offset is None:
                self._overflow.give_back(key, rate)
                return
            stored, tokens, updated = _SLOT.unpack_from(self._map, offset)
            if stored == code:
                _SLOT.pack_into(self._map, offset, code, min(float(rate), tokens + 1), updated)

    @contextlib.contextmanager
    def _slot(self, code: int) -> Iterator[int | None]:
        """``code``'s slot offset (None: the table is full for it), the table locked for this process's thread."""
        with self._range.locked():
            yield self._find(code)

    def _find(self, code: int) -> int | None:
        """The offset of ``code``'s slot, or of the empty slot it would take; None when PROBES are all taken."""
        home = _home(code, self._shift)
        for probe in range(min(PROBES, self._slots)):
            offset: int = _HEADER.size + ((home + probe) & (self._slots - 1)) * _SLOT.size
            stored: int = _SLOT.unpack_from(self._map, offset)[0]
            if stored == code or stored == 0:
                return offset
        return None

    def _full(self, key: tuple[int, str], rate: int, now: float) -> Denial | None:
        if not self._warned:
            self._warned = True
            log.warning("rate table full: some systems' rates are counted per worker process",
                        extra={"slots": self._slots})
        return self._overflow.allow(key, rate, now)


class SharedQuotaCounts:
    """The daily quota's counts in a :class:`RateTable`'s second region, per system, environment and Vietnamese
    calendar day: ``total``, what has been admitted (the database's counter when the count began, plus every
    admission since, plus what flushes learned of other servers' calls), and ``unflushed``, admitted and not
    yet taken to the database by a flush.  Every worker admits against
    the one total, so a quota holds for the whole server; how the counts meet the database is
    :class:`dancu.exchange.quota.QuotaBook`'s.  One per process and table; the region has its own ``fcntl``
    lock (a byte range), apart from the rate buckets'.

    A day's slot is kept through the next day (a late flush, a call just before midnight still finds it);
    after that a lookup that passes it may take it again.  Slots are never emptied: the live counts are
    systems × environments × two days, and stale ones are reused as lookups meet them."""

    def __init__(self, table: RateTable) -> None:
        magic, self._slots = _header(table)
        if magic != _MAGIC:  # checked before mapping: see _header
            raise ValueError("this rate table holds no quota counts")
        self._map = mmap.mmap(table.fd, 0)
        self._start = _HEADER.size + self._slots * _SLOT.size
        self._range = _LockedRange(table.fd, self._start, self._slots * _QUOTA_SLOT.size)
        self._shift = _shift(self._slots)

    def admit(self, key: tuple[int, str, int], amount: int, limit: int) -> bool | None:
        """Count ``amount`` against ``limit`` for ``key`` (system, environment, day ordinal): True when counted,
        False when it would exceed the limit, None when the count has not begun (see :meth:`begin`) or the
        table has no room for it."""
        with self._slot(key) as (offset, found):
            if not found:
                return None
            code, day, total, unflushed = _QUOTA_SLOT.unpack_from(self._map, offset)
            if total + amount > limit:
                return False
            _QUOTA_SLOT.pack_into(self._map, offset, code, day, total + amount, unflushed + amount)
            return True

    def begin(self, key: tuple[int, str, int], stored: int) -> bool:
        """Begin ``key``'s count at the database's ``stored`` total, unless another process began it first;
        False when the table has no room for it."""
        with self._slot(key) as (offset, found):
            if offset < 0:
                return False
            if not found:
                _QUOTA_SLOT.pack_into(self._map, offset, _code(key[:2]), key[2], stored, 0)
            return True

    def take(self, key: tuple[int, str, int]) -> int:
        """What every worker admitted and nobody has taken to the database yet, now this caller's to add there
        (then :meth:`flushed`, or :meth:`untake` if that failed)."""
        with self._slot(key) as (offset, found):
            if not found:
                return 0
            code, day, total, unflushed = _QUOTA_SLOT.unpack_from(self._map, offset)
            _QUOTA_SLOT.pack_into(self._map, offset, code, day, total, 0)
            return int(unflushed)

    def untake(self, key: tuple[int, str, int], amount: int) -> bool:
        """A taken ``amount`` did not reach the database: it waits for the next flush again (False: the count
        is gone, its slot reused — a database down for days)."""
        with self._slot(key) as (offset, found):
            if found:
                code, day, total, unflushed = _QUOTA_SLOT.unpack_from(self._map, offset)
                _QUOTA_SLOT.pack_into(self._map, offset, code, day, total, unflushed + amount)
            return found

    def flushed(self, key: tuple[int, str, int], amount: int, stored: int) -> None:
        """A taken ``amount`` is in the database, whose counter then read ``stored`` (other servers' calls
        included).  ``stored`` plus what is not yet taken counts every call once (a taken amount has left
        ``unflushed``), but misses another flush's amount committed after this one: so the total rises to it,
        to take in other servers' calls, and is never lowered."""
        with self._slot(key) as (offset, found):
            if not found:
                return
            code, day, total, unflushed = _QUOTA_SLOT.unpack_from(self._map, offset)
            _QUOTA_SLOT.pack_into(self._map, offset, code, day, max(total, stored + unflushed), unflushed)

    def total(self, key: tuple[int, str, int]) -> int | None:
        """The count so far (None: not begun)."""
        with self._slot(key) as (offset, found):
            return int(_QUOTA_SLOT.unpack_from(self._map, offset)[2]) if found else None

    @contextlib.contextmanager
    def _slot(self, key: tuple[int, str, int]) -> Iterator[tuple[int, bool]]:  # found: the offset is an int
        """Under the region's lock: the offset of ``key``'s count and True, else of the slot it would take and
        False (offset -1: no room)."""
        with self._range.locked():
            offset, found = self._find(_code(key[:2]), key[2])
            yield (-1 if offset is None else offset), found

    def _find(self, code: int, day: int) -> tuple[int | None, bool]:
        """Probing from the home slot: the count of ``(code, day)``; else the first reusable slot on the way (a
        day before yesterday's) or the empty one that ends the search."""
        home = _home(code * 1_000_003 + day, self._shift)
        reusable: int | None = None
        for probe in range(min(PROBES, self._slots)):
            offset = self._start + ((home + probe) & (self._slots - 1)) * _QUOTA_SLOT.size
            stored, stored_day = _QUOTA_SLOT.unpack_from(self._map, offset)[:2]
            if stored == code and stored_day == day:
                return offset, True
            if stored == 0:
                return (offset if reusable is None else reusable), False
            if stored_day < day - 1 and reusable is None:
                reusable = offset
        return reusable, False


def _code(key: tuple[int, str]) -> int:
    system_id, environment = key
    return int(system_id) * 4 + _ENVIRONMENTS.get(environment, 3)  # never 0 (an empty slot): codes are 1-3


_process_table: RateTable | None = None
_process_limiter: SharedRateLimiter | None = None
_process_quota: SharedQuotaCounts | None = None
_process_table_has_no_quota = False


def use_table(table: RateTable | None) -> None:
    """In a worker: the table its supervisor made (None: buckets of its own), before the application starts."""
    global _process_table, _process_limiter, _process_quota, _process_table_has_no_quota
    _process_table, _process_limiter, _process_quota, _process_table_has_no_quota = table, None, None, False


def quota_counts_for_this_process() -> SharedQuotaCounts | None:
    """The shared table's quota counts when this process is a worker of a supervisor that made a table with
    them (one per process), else None: the quota is then counted per process (see dancu.exchange.quota)."""
    global _process_quota, _process_table_has_no_quota
    if _process_table is None or _process_table_has_no_quota:
        return None
    if _process_quota is None:
        try:
            _process_quota = SharedQuotaCounts(_process_table)
        except ValueError:  # a table from the previous release's supervisor: rate buckets only (checked once)
            _process_table_has_no_quota = True
            return None
    return _process_quota


def for_this_process() -> RateLimiter | SharedRateLimiter:
    """The shared table's limiter when this process is a worker of a supervisor that made one (one limiter per
    process, whatever the number of runtimes), else buckets of its own."""
    global _process_limiter
    if _process_table is None:
        return RateLimiter()
    if _process_limiter is None:
        _process_limiter = SharedRateLimiter(_process_table)
    return _process_limiter
