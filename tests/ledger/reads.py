"""Checking operator reads (dancu.ledger.operator_reads) in the log: the entries an answer names, the entries naming
a resident, and writers that cannot write (HTTP: ``broken_ledger`` in tests/conftest.py; commands: DownWriter)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import text

from dancu.db import Database
from dancu.exchange.ledger_port import unavailable
from dancu.ledger.domain import LedgerEntry, Receipt
from dancu.ledger.loop_writer import LoopWriter

SEQ_HEADER = "x-dancu-log-seq"


def operator_entries(database: Database, personal_id: str, service: str | None = None) -> list[Any]:
    """Every operator read naming ``personal_id`` (of ``service``), in log order."""
    sql = ("SELECT * FROM ledger_entry WHERE personal_ids @> ARRAY[CAST(:p AS text)] AND client_system LIKE "
           "'operator:%'" + (" AND service = :s" if service else "") + " ORDER BY seq")
    with database.engine.connect() as conn:
        return list(conn.execute(text(sql), {"p": personal_id, "s": service}))


def logged(database: Database, response: httpx.Response, end_user: str) -> list[Any]:
    """The entries the answer names in X-Dancu-Log-Seq, in that order, each checked against the bytes received:
    the answer's own hash, operator:api, the end user, one correlation id for them all."""
    assert response.status_code == 200, response.text
    seqs = [int(s) for s in response.headers[SEQ_HEADER].split(", ")]
    with database.engine.connect() as conn:
        rows = {r.seq: r for r in conn.execute(text("SELECT * FROM ledger_entry WHERE seq = ANY(:s)"), {"s": seqs})}
    entries = [rows[seq] for seq in seqs]
    for entry in entries:
        assert bytes(entry.response_hash) == hashlib.sha256(response.content).digest()
        assert (entry.kind, entry.client_system, entry.end_user, entry.result) == (
            "exchange", "operator:api", end_user, "ok")
        assert entry.legal_basis == "Luật Căn cước 2023"
    assert len({e.correlation_id for e in entries}) == 1 and len({bytes(e.request_hash) for e in entries}) == 1
    return entries


def assert_refused_unlogged(response: httpx.Response, *secrets: str) -> None:
    """A read refused because the log cannot be written: 503 ledger_unavailable as problem+json, no log seq, and
    none of ``secrets`` (the resident data the read would have shown) in the answer."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "ledger_unavailable" and SEQ_HEADER not in response.headers
    assert [s for s in secrets if s in response.text] == []


def by_resident(entries: list[Any]) -> dict[str, list[str]]:
    """personal ID -> the fields its entry lists; each resident in exactly one entry of the answer."""
    out: dict[str, list[str]] = {}
    for entry in entries:
        for pid in entry.personal_ids:
            assert pid not in out, pid
            out[pid] = list(entry.fields_disclosed)
    return out


def max_seq(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(seq), -1) FROM ledger_entry")).scalar_one())


def operator_entries_since(database: Database, seq: int) -> list[Any]:
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT * FROM ledger_entry WHERE seq > :s AND client_system LIKE "
                                      "'operator:%' ORDER BY seq"), {"s": seq}))


class FailingWriter(LoopWriter):
    """Starts fine; every append fails as a broken commit would."""

    async def start(self) -> LoopWriter:
        return self

    async def append_async(self, entry: LedgerEntry) -> Receipt:
        raise unavailable()

    async def close(self) -> None:
        return None


class DownWriter:
    """A command's writer whose database is gone."""

    def __enter__(self) -> DownWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def append(self, entry: object) -> None:
        raise ConnectionError("the log's database is gone")
