"""Per-system rate limit (requests per second) as a token bucket, per process.

It counts requests, one token each, whatever a request carries: the bucket holds at most ``rate`` tokens, so
a request charged by its size (a batch's items) would be refused every time once larger than the rate.  What
a request carries is counted by the daily quota (records).

With N worker processes each allows the full rate, so configure ``rate_per_second`` per worker or put a
shared limiter in front; the daily quota (in the database) is exact whatever the number of workers.

Buckets are keyed by what the exchange meters — a system in one environment, ``(system_id, "test")`` or
``(system_id, "production")`` — so a system's test calls never spend its production rate, nor the reverse.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass, field

from dancu.policy.domain import Denial, Rule


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
            bucket.tokens = min(float(rate), bucket.tokens + (now - bucket.updated) * rate)
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
