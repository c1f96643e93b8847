"""HMAC-SHA256 signatures between dancu and an SMS aggregator, in both directions (pure).

The signed material is ``<timestamp>.<raw body>`` (Unix seconds, a dot, the bytes as sent), carried as
``X-Dancu-Timestamp: <timestamp>`` and ``X-Dancu-Signature: sha256=<hex>``; a receiver refuses a request whose
timestamp is further than its tolerance from its own clock, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

TIMESTAMP_HEADER = "X-Dancu-Timestamp"
SIGNATURE_HEADER = "X-Dancu-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def headers(secret: str, body: bytes, now: datetime) -> dict[str, str]:
    """The two headers of a request signed at ``now``."""
    timestamp = str(int(now.timestamp()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def valid(secret: str, timestamp: str | None, body: bytes, signature: str | None) -> bool:
    if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def fresh(timestamp: str, now: datetime, tolerance_s: int) -> bool:
    """``timestamp`` (already :func:`valid`) is within ``tolerance_s`` of ``now``, before or after."""
    return abs(now.timestamp() - int(timestamp)) <= tolerance_s
