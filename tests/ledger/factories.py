"""Building log entries for tests."""

from __future__ import annotations

import hashlib

from dancu.ledger.domain import EntryKind, LedgerEntry


def make_entry(n: int = 0, **overrides: object) -> LedgerEntry:
    values: dict[str, object] = {
        "kind": EntryKind.EXCHANGE, "client_system": "VN/GOV/BHXH/insurance", "service": "verify",
        "purpose": "xác minh nhân thân", "result": "match", "correlation_id": f"corr-{n}",
        "request_hash": hashlib.sha256(f"req{n}".encode()).digest(),
        "response_hash": hashlib.sha256(f"resp{n}".encode()).digest(), "latency_ms": n % 97,
        "relaying_platform": "NDXP" if n % 2 else None, "end_user": None, "legal_basis": "Luật Căn cước 2023",
        "personal_ids": (f"0012{n:08d}",), "fields_disclosed": ("full_name", "dob"),
    }
    values.update(overrides)
    return LedgerEntry(**values)  # type: ignore[arg-type]
