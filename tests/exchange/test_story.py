"""End to end over real HTTP: a bank from request letter to go-live, verifying and retrieving, suspended
and refused at once with its still-valid token, resumed, terminated and refused; all on record."""

from __future__ import annotations

import httpx

from dancu.db import Database
from tests.agencies.factories import ACTOR, assert_problem
from tests.exchange.helpers import PURPOSE, bearer, entries, onboard, resident

VERIFY, RETRIEVE = "/exchange/v1/verify", "/exchange/v1/retrieve"


def test_a_bank_from_request_letter_to_termination(xhttp: httpx.Client, database: Database) -> None:
    bank = onboard(xhttp)
    steps = xhttp.get(f"/agencies/onboarding/{bank.request_id}", headers=ACTOR).json()
    assert [s["step"] for s in steps["steps"]] == list(range(1, 11))
    person = resident(xhttp, full_name="Trần Thị Hòa", date_of_birth="1990-02-03", sex="2")
    pid, token = person["personal_id"], bank.token(xhttp)

    ok = xhttp.post(VERIFY, json={"personal_id": pid, "purpose": PURPOSE, "full_name": "TRẦN THỊ HOÀ",
                                  "date_of_birth": "1990-02-03"}, headers=bearer(token, **{"X-Road-Id": "story-1"}))
    assert ok.status_code == 200, ok.text
    assert ok.json()["match"] is True and ok.json()["fields"]["full_name"] == "match"
    assert ok.headers["X-Road-Id"] == "story-1"

    got = xhttp.post(RETRIEVE, json={"personal_id": pid, "purpose": PURPOSE, "fields": ["full_name", "sex"]},
                     headers=bearer(token, **{"X-Road-Id": "story-2"}))
    assert got.status_code == 200, got.text
    assert set(got.json()["fields"]) == {"full_name", "sex"}
    assert got.json()["fields"]["full_name"]["value"] == "Trần Thị Hòa"
    assert got.json()["fields"]["full_name"]["source"] == "test" and got.json()["fields"]["sex"]["updated_at"]

    system = bank.identifier
    suspended = xhttp.post(f"/agencies/systems/{system}/suspend", json={"reason": "kiểm tra"}, headers=ACTOR)
    assert suspended.status_code == 200, suspended.text
    refused = xhttp.post(VERIFY, json={"personal_id": pid, "purpose": PURPOSE, "full_name": "x"},
                         headers=bearer(token, **{"X-Road-Id": "story-3"}))
    assert_problem(refused, 403, "system_suspended")
    assert refused.headers["X-Road-Error"] == "system_suspended"

    assert xhttp.post(f"/agencies/systems/{system}/resume", json={}, headers=ACTOR).status_code == 200
    again = xhttp.post(VERIFY, json={"personal_id": pid, "purpose": PURPOSE, "sex": "2"},
                       headers=bearer(token, **{"X-Road-Id": "story-4"}))
    assert again.status_code == 200 and again.json()["match"] is True

    assert xhttp.post(f"/agencies/systems/{system}/terminate", json={"reason": "hết hợp đồng"},
                      headers=ACTOR).status_code == 200
    ended = xhttp.post(VERIFY, json={"personal_id": pid, "purpose": PURPOSE, "sex": "2"},
                       headers=bearer(token, **{"X-Road-Id": "story-5"}))
    assert ended.status_code in (401, 403)
    assert ended.json()["code"] in ("credential_revoked", "system_terminated")

    log = entries(database, client=system)
    by_id = {e["correlation_id"]: e for e in log}
    assert by_id["story-1"]["result"] == "ok" and by_id["story-1"]["personal_ids"] == [pid]
    assert by_id["story-2"]["fields_disclosed"] == ["full_name", "sex"]
    assert by_id["story-3"]["result"] == "denied" and by_id["story-3"]["error_code"] == "system_suspended"
    assert by_id["story-3"]["fields_disclosed"] == []
    assert by_id["story-4"]["result"] == "ok"
    assert by_id["story-5"]["result"] == "denied"
    history = xhttp.get(f"/agencies/systems/{system}", headers=ACTOR).json()
    assert history["status"] == "terminated"
    changes = [(c["status"], c["actor"], c["reason"]) for c in history["status_history"]]
    assert changes[-3:] == [("suspended", "officer-c06", "kiểm tra"), ("active", "officer-c06", None),
                            ("terminated", "officer-c06", "hết hợp đồng")]
    assert all(c["changed_at"] for c in history["status_history"])
