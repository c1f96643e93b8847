"""No answer without its log entry: when the ledger cannot be written, 503 and nothing disclosed."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from dancu.exchange.ledger_port import LedgerPort, unavailable
from dancu.ledger.domain import LedgerEntry, Receipt
from dancu.ledger.loop_writer import LoopWriter
from tests.agencies.factories import assert_problem
from tests.exchange.helpers import PURPOSE, bearer, grant, onboard, resident


class _FailingWriter(LoopWriter):
    """Starts fine; every append fails as a broken commit would."""

    async def start(self) -> LoopWriter:
        return self

    async def append_async(self, entry: LedgerEntry) -> Receipt:
        raise unavailable()

    async def close(self) -> None:
        return None


UNREACHABLE = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"




def test_ledger_failure_answers_503_and_discloses_nothing(xhttp: httpx.Client, exchange_app: FastAPI) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp, full_name="Lê Văn Bình")
    pid = person["personal_id"]
    for mode in ("unreachable", "failing_commit"):
        healthy = exchange_app.state.ledger_writer
        factory = {"failing_commit": _FailingWriter}.get(mode, LoopWriter)
        exchange_app.state.ledger_writer = LedgerPort(UNREACHABLE, factory=factory)
        try:
            verify = xhttp.post("/exchange/v1/verify", json={"personal_id": pid, "purpose": PURPOSE,
                                                             "full_name": "Lê Văn Bình"}, headers=bearer(token))
            got = xhttp.post("/exchange/v1/retrieve", json={"personal_id": pid, "purpose": PURPOSE,
                                                            "fields": ["full_name"]}, headers=bearer(token))
            denied = xhttp.post("/exchange/v1/retrieve", json={"personal_id": pid, "purpose": PURPOSE,
                                                               "fields": ["phone"]}, headers=bearer(token))
        finally:
            exchange_app.state.ledger_writer = healthy
        for response in (verify, got, denied):
            body = assert_problem(response, 503, "ledger_unavailable")
            assert "Bình" not in response.text and "match" not in body and "fields" not in body
            assert response.headers["X-Road-Error"] == "ledger_unavailable"
    recovered = xhttp.post("/exchange/v1/verify", json={"personal_id": pid, "purpose": PURPOSE,
                                                        "full_name": "Lê Văn Bình"}, headers=bearer(token))
    assert recovered.status_code == 200 and recovered.json()["match"] is True
