"""The portal shows nothing it cannot log: while the exchange log cannot be written, the record, the history
and both downloads answer an HTML 503 (with the security headers) naming none of the citizen's data."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange.ledger_port import LedgerPort
from tests.citizen.conftest import (
    FailingWriter,
    ledger_rows,
    make_resident,
    register_account,
)

pytestmark = pytest.mark.usefixtures("demo_outbox")
PAGES = ("/citizen/portal/me", "/citizen/portal/me/history", "/citizen/portal/me/record.json",
         "/citizen/portal/me/record.pdf")


def test_nothing_is_shown_when_the_log_cannot_be_written(live_server: str, live_app: FastAPI,
                                                          database: Database) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as client:
        register_account(client, database, person)

        healthy = live_app.state.ledger_writer
        live_app.state.ledger_writer = LedgerPort(libpq_url(database.url),
                                                  factory=FailingWriter)
        try:
            refused = {path: client.get(path) for path in PAGES}
            english = client.get("/citizen/portal/me?lang=en")
        finally:
            live_app.state.ledger_writer = healthy
        for path, response in refused.items():
            assert response.status_code == 503, path
            assert response.headers["content-type"].startswith("text/html"), path
            assert response.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in \
                response.headers["content-security-policy"]
            assert "Tạm thời chưa xem được thông tin" in response.text and 'id="unavailable"' in response.text
            for secret in (person["personal_id"], person["full_name"], person["phone"][1:], "%PDF"):
                assert secret not in response.text, (path, secret)
        assert english.status_code == 503 and "Temporarily unavailable" in english.text
        assert ledger_rows(database, person["personal_id"], "citizen_portal") == []

        shown = client.get("/citizen/portal/me")  # the log is back: so is the record, and its entry
        assert shown.status_code == 200 and person["full_name"] in shown.text
    assert len(ledger_rows(database, person["personal_id"], "citizen_portal")) == 1
