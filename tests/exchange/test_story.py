"""End to end over real HTTP: a bank from request letter to go-live — its test key tried on the sandbox's
synthetic residents (and refused on a real one), step 8 passed on what the exchange log shows — verifying and
retrieving, suspended and refused at once with its still-valid token, resumed, terminated and refused; all on
record."""

from __future__ import annotations

import httpx

from dancu.db import Database
from tests.agencies.factories import ACTOR, ClientKey, assert_problem, letter, post_step, step_body
from tests.exchange.helpers import PURPOSE, System, bearer, entries, grant, resident, sandbox_people

VERIFY, RETRIEVE, BATCH = "/exchange/v1/verify", "/exchange/v1/retrieve", "/exchange/v1/verify/batch"


def _walk_to_go_live(http: httpx.Client, person: dict[str, str]) -> System:
    """Steps 1–10 as the database manager records them, the bank's own test run between 7 and 8."""
    started = http.post("/agencies/onboarding", headers=ACTOR, json=letter(
        services=["verify", "retrieve", "batch_verify"], fields=["full_name", "date_of_birth", "sex"]))
    assert started.status_code == 201, started.text
    request_id, identifier = started.json()["request_id"], started.json()["system"]
    test_key, key = ClientKey(), ClientKey()
    for number in range(2, 8):
        assert post_step(http, request_id, number, step_body(number, test_key, key)).status_code == 200
    bank = System(identifier, key, request_id, test_key)

    early = assert_problem(post_step(http, request_id, 8, {}), 422, "onboarding_step_invalid")
    assert early["rule"] == "test_calls_missing" and early["missing"] == ["batch_verify", "retrieve", "verify"]
    test_token = bank.test_token(http)
    real = http.post(VERIFY, json={"personal_id": person["personal_id"], "purpose": PURPOSE, "full_name": "x"},
                     headers=bearer(test_token, **{"X-Road-Id": "story-t0"}))
    assert_problem(real, 403, "test_credentials_sandbox_only")  # a real person: not with a test key
    one, two = sandbox_people(http, test_token, 2)
    tried = http.post(VERIFY, json={"personal_id": one["personal_id"], "purpose": PURPOSE,
                                    "full_name": one["full_name"], "date_of_birth": one["date_of_birth"]},
                      headers=bearer(test_token, **{"X-Road-Id": "story-t1"}))
    assert tried.status_code == 200 and tried.json()["match"] is True, tried.text
    fetched = http.post(RETRIEVE, json={"personal_id": two["personal_id"], "purpose": PURPOSE, "fields": ["sex"]},
                        headers=bearer(test_token, **{"X-Road-Id": "story-t2"}))
    assert fetched.status_code == 200 and fetched.json()["fields"]["sex"]["value"] == two["sex"]
    assert fetched.json()["fields"]["sex"]["source"].startswith("sandbox:synth:seed=")
    batch = http.post(BATCH, json={"purpose": PURPOSE, "items": [{"personal_id": p["personal_id"], "sex": p["sex"]}
                                                                 for p in (one, two)]},
                      headers=bearer(test_token, **{"X-Road-Id": "story-t3"}))
    assert batch.status_code == 200 and all(i["match"] for i in batch.json()["items"])

    eight = post_step(http, request_id, 8, {"notes": "Kiểm thử trên môi trường giả lập"})
    assert eight.status_code == 200, eight.text
    run = eight.json()["steps"][7]["data"]
    assert run["calls"] == {"batch_verify": 2, "retrieve": 1, "verify": 1}  # from the log, not declared
    nine = step_body(9, test_key, key)
    nine["data"]["policy"] = grant(services=["verify", "retrieve"], fields=["full_name", "date_of_birth", "sex"])
    assert post_step(http, request_id, 9, nine).status_code == 200
    assert post_step(http, request_id, 10, step_body(10)).status_code == 200
    return bank


def test_a_bank_from_request_letter_to_termination(xhttp: httpx.Client, database: Database) -> None:
    person = resident(xhttp, full_name="Trần Thị Hòa", date_of_birth="1990-02-03", sex="2")
    bank = _walk_to_go_live(xhttp, person)
    steps = xhttp.get(f"/agencies/onboarding/{bank.request_id}", headers=ACTOR).json()
    assert [s["step"] for s in steps["steps"]] == list(range(1, 11)) and steps["state"] == "live"
    pid, token = person["personal_id"], bank.token(xhttp)
    live_test = xhttp.post(RETRIEVE, json={"personal_id": pid, "purpose": PURPOSE, "fields": ["full_name"]},
                           headers=bearer(bank.test_token(xhttp), **{"X-Road-Id": "story-t4"}))
    assert_problem(live_test, 403, "test_credentials_sandbox_only")  # live now: the test key still never reaches her

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
    for tag in ("story-t0", "story-t4"):
        assert (by_id[tag]["result"], by_id[tag]["error_code"]) == ("denied", "test_credentials_sandbox_only")
        assert by_id[tag]["personal_ids"] == [pid] and by_id[tag]["fields_disclosed"] == []
    assert by_id["story-t1"]["result"] == "ok" and by_id["story-t1"]["personal_ids"] != [pid]
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
