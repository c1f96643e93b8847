"""Batch verify (synchronous, ≤ 1,000) and verify jobs (asynchronous, streamed, resumable)."""

from __future__ import annotations

import random
import time
import uuid

import httpx
import orjson

from dancu.db import Database
from tests.agencies.factories import assert_problem
from tests.exchange.helpers import PURPOSE, bearer, entries, grant, onboard, resident


def test_batch_verify_logs_each_item(xhttp: httpx.Client, database: Database) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")
    correlation = f"batch-{uuid.uuid4()}"
    items = [{"personal_id": person["personal_id"], "sex": "1"}, {"personal_id": "001099000002", "sex": "1"},
             {"personal_id": "12345", "sex": "1"}]
    response = xhttp.post("/exchange/v1/verify/batch", json={"purpose": PURPOSE, "items": items},
                          headers=bearer(token, **{"X-Road-Id": correlation}))
    assert response.status_code == 200, response.text
    results = response.json()["items"]
    assert [r["code"] for r in results] == ["ok", "resident_not_found", "invalid_id_number"]
    assert [r["match"] for r in results] == [True, False, False]
    log = entries(database, correlation=correlation)
    assert [e["correlation_id"] for e in log] == [f"{correlation}:{i}" for i in range(3)]
    assert [e["personal_ids"] for e in log] == [[i["personal_id"]] for i in items]
    too_many = {"purpose": PURPOSE, "items": [{"personal_id": "001099000002"}] * 1001}
    assert_problem(xhttp.post("/exchange/v1/verify/batch", json=too_many, headers=bearer(token)),
                   422, "validation_failed")


def _wait(xhttp: httpx.Client, token: str, job_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = xhttp.get(f"/exchange/v1/verify/jobs/{job_id}", headers=bearer(token)).json()
        if view["state"] != "running":
            return dict(view)
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_verify_job_jsonl_with_progress_and_results(xhttp: httpx.Client, database: Database) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp, sex="2", full_name="Vũ Thị Lan")
    rng = random.Random(7)
    lines = [{"personal_id": f"0010990{rng.randrange(10**5):05d}", "sex": "1"} for _ in range(3000)]
    lines[1234] = {"personal_id": person["personal_id"], "sex": "2", "full_name": "vũ thị lan"}
    body = b"\n".join(orjson.dumps(line) for line in lines) + b"\n"
    started = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=body,
                         headers=bearer(token, **{"content-type": "application/x-ndjson", "X-Road-Id": "job-a"}))
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    assert started.json()["total"] == 3000
    view = _wait(xhttp, token, job_id)
    assert view["state"] == "done" and view["done"] == 3000
    results = [orjson.loads(line) for line in
               xhttp.get(f"/exchange/v1/verify/jobs/{job_id}/results", headers=bearer(token)).text.splitlines()]
    assert [r["line"] for r in results] == list(range(1, 3001))
    assert results[1234]["match"] is True and results[1234]["personal_id"] == person["personal_id"]
    rest = xhttp.get(f"/exchange/v1/verify/jobs/{job_id}/results?after=2990", headers=bearer(token)).text
    assert len(rest.splitlines()) == 10
    logged = entries(database, correlation="job-a:")
    assert len(logged) == 3000 and {e["service"] for e in logged} == {"batch_verify"}

    stranger = onboard(xhttp, grant())
    assert_problem(xhttp.get(f"/exchange/v1/verify/jobs/{job_id}", headers=bearer(stranger.token(xhttp))),
                   404, "job_not_found")


def test_verify_job_csv_and_refusals(xhttp: httpx.Client) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp, sex="1", permanent_province="01")
    csv = f"personal_id,sex,address_province\n{person['personal_id']},1,01\n001099000003,1,\n"
    started = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=csv.encode(),
                         headers=bearer(token, **{"content-type": "text/csv"}))
    assert started.status_code == 202, started.text
    assert _wait(xhttp, token, started.json()["job_id"])["done"] == 2
    bad = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=b"name\nx\n",
                     headers=bearer(token, **{"content-type": "text/csv"}))
    assert_problem(bad, 422, "job_input_invalid")
    assert_problem(xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=b"{}",
                              headers=bearer(token, **{"content-type": "application/xml"})),
                   415, "unsupported_media_type")
    verify_only = onboard(xhttp, grant(services=["verify"]))
    denied = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=b'{"personal_id":"001099000003"}',
                        headers=bearer(verify_only.token(xhttp), **{"content-type": "application/x-ndjson"}))
    assert assert_problem(denied, 403, "policy_denied")["denials"][0]["rule"] == "service_not_allowed"
