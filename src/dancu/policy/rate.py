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
_MAGIC = b"DANCURT1"
_HEADER = struct.Struct("<8sI4x")  # magic, slot count
_SLOT = struct.Struct("<qdd")  # key (0: empty), tokens, updated (monotonic seconds)
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
            os.ftruncate(fd, _HEADER.size + slots * _SLOT.size)  # the rest reads as zeros: every slot empty
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


class SharedRateLimiter:
    """:class:`RateLimiter`'s buckets in a :class:`RateTable` (see the module's docstring).  One per process
    and table (:func:`for_this_process`): ``fcntl`` locks belong to the process, not to a descriptor."""

    def __init__(self, table: RateTable) -> None:
        import fcntl  # POSIX only; the supervisor that shares a table runs where SO_REUSEPORT balances

        self._lockf, self._lock_ex, self._unlock = fcntl.lockf, fcntl.LOCK_EX, fcntl.LOCK_UN
        self._fd = table.fd
        try:
            self._map = mmap.mmap(self._fd, 0)
        except (OSError, ValueError) as error:
            raise ValueError("not a rate table") from error
        magic, slots = _HEADER.unpack_from(self._map, 0) if len(self._map) >= _HEADER.size else (b"", 0)
        self._slots: int = slots
        if magic != _MAGIC or len(self._map) != _HEADER.size + self._slots * _SLOT.size:
            self._map.close()
            raise ValueError("not a rate table")
        self._shift = 64 - self._slots.bit_length() + 1
        self._threads = threading.Lock()  # fcntl locks are per process: threads of one process take turns here
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
        with self._threads:
            self._lockf(self._fd, self._lock_ex)
            try:
                yield self._find(code)
            finally:
                self._lockf(self._fd, self._unlock)

    def _find(self, code: int) -> int | None:
        """The offset of ``code``'s slot, or of the empty slot it would take; None when PROBES are all taken."""
        home = ((code * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> self._shift  # Fibonacci hashing
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


def _code(key: tuple[int, str]) -> int:
    system_id, environment = key
    return int(system_id) * 4 + _ENVIRONMENTS.get(environment, 3)  # never 0 (an empty slot): codes are 1-3


_process_table: RateTable | None = None
_process_limiter: SharedRateLimiter | None = None


def use_table(table: RateTable | None) -> None:
    """In a worker: the table its supervisor made (None: buckets of its own), before the application starts."""
    global _process_table, _process_limiter
    _process_table, _process_limiter = table, None


def for_this_process() -> RateLimiter | SharedRateLimiter:
    """The shared table's limiter when this process is a worker of a supervisor that made one (one limiter per
    process, whatever the number of runtimes), else buckets of its own."""
    global _process_limiter
    if _process_table is None:
        return RateLimiter()
    if _process_limiter is None:
        _process_limiter = SharedRateLimiter(_process_table)
    return _process_limiter
