"""The test environment over real HTTP: test credentials reach only the sandbox's synthetic residents — for
every service, before and after go-live, refused precisely and logged, nothing disclosed — under the test
policy of step 7 and its own quota; production credentials behave as before and never see the sandbox."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson

from dancu.db import Database
from tests.agencies.factories import ACTOR, assert_problem, post_step, sandbox_calls, step_body
from tests.exchange.helpers import (
    FIELDS,
    PURPOSE,
    SERVICES,
    System,
    bearer,
    entries,
    grant,
    onboard,
    resident,
    sandbox_people,
)
from tests.registry.factories import unique_number

VERIFY, RETRIEVE, BATCH, JOBS, PUSH = ("/exchange/v1/verify", "/exchange/v1/retrieve", "/exchange/v1/verify/batch",
                                       "/exchange/v1/verify/jobs", "/exchange/v1/enrichment")
PUSH_PURPOSE = "dong_bo_the_bhyt"
POLICY = grant(services=["verify", "retrieve", "batch_verify", "enrichment_push"], sources=["bhyt"],
               purposes=[PURPOSE, PUSH_PURPOSE])


def _card() -> str:
    return "GD4" + uuid.uuid4().int.__str__()[:12]


def _calls(http: httpx.Client, token: str, pid: str | None, others: list[str], tag: str) -> dict[str, httpx.Response]:
    """Each service once, about ``pid`` (``None``: a pushed record naming no one) alongside ``others``."""
    def h(name: str, **more: str) -> dict[str, str]:
        return bearer(token, **{"X-Road-Id": f"{tag}-{name}", **more})

    named = pid or others[0]
    lines = b"\n".join(orjson.dumps({"personal_id": p, "sex": "1"}) for p in [*others, named])
    record = {"ho_ten": "Nguyễn Văn Thử", "ma_the": _card(), **({"so_dinh_danh": pid} if pid else {})}
    return {
        "verify": http.post(VERIFY, json={"personal_id": named, "purpose": PURPOSE, "sex": "1"}, headers=h("v")),
        "retrieve": http.post(RETRIEVE, json={"personal_id": named, "purpose": PURPOSE, "fields": ["full_name"]},
                              headers=h("r")),
        "batch": http.post(BATCH, json={"purpose": PURPOSE, "items": [{"personal_id": p, "sex": "1"}
                                                                      for p in [*others, named]]}, headers=h("b")),
        "job": http.post(f"{JOBS}?purpose={PURPOSE}", content=lines,
                         headers=h("j", **{"content-type": "application/x-ndjson"})),
        "push": http.post(PUSH, json={"source": "bhyt", "purpose": PUSH_PURPOSE, "records": [
            *({"so_dinh_danh": p, "ho_ten": "Nguyễn Văn Thử", "ma_the": _card()} for p in others), record]},
            headers=h("p")),
    }


def _refused_everywhere(http: httpx.Client, database: Database, system: System, token: str, pid: str | None,
                        sandbox: list[str], tag: str) -> None:
    """Each service about ``pid`` (``None``: a pushed record naming no one — only a push can), after the
    sandbox residents ``sandbox``: refused whole, precisely, logged, nothing disclosed."""
    answers = _calls(http, token, pid, sandbox, tag)
    if pid is None:  # its record would be matched by name and birth date against the whole registry
        answers = {"push": answers["push"]}
    for name, response in answers.items():
        body = assert_problem(response, 403, "test_credentials_sandbox_only")
        assert "fields" not in body and "match" not in body, name  # nothing disclosed
    position = len(sandbox)  # the outsider comes after the sandbox residents
    assert answers["push"].json()["records"] == [position]
    if pid is not None:
        assert answers["batch"].json()["items"] == [position]
        assert answers["job"].json()["lines"] == [position + 1]  # job lines count from 1
    wanted = {f"{tag}-{name[0]}" for name in answers}  # verify -> <tag>-v, ..., push -> <tag>-p
    log = {e["correlation_id"]: e for e in entries(database, correlation=tag) if e["correlation_id"] in wanted}
    assert len(log) == len(answers)
    assert {(e["result"], e["error_code"]) for e in log.values()} == {("denied", "test_credentials_sandbox_only")}
    assert all(e["client_system"] == system.identifier and e["fields_disclosed"] == [] for e in log.values())
    if pid is not None:  # the person named sees the attempt in their access history
        assert pid in log[f"{tag}-v"]["personal_ids"] and pid in log[f"{tag}-b"]["personal_ids"]


def _wait(http: httpx.Client, token: str, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view: dict[str, Any] = http.get(f"{JOBS}/{job_id}", headers=bearer(token)).json()
        if view["state"] != "running":
            return view
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def _served_everywhere(http: httpx.Client, token: str, sandbox: list[dict[str, Any]]) -> None:
    """Every service answers a test key on sandbox residents, as it would a production key on real ones."""
    one, two, three = sandbox
    verified = http.post(VERIFY, json={"personal_id": one["personal_id"], "purpose": PURPOSE,
                                       "full_name": one["full_name"]}, headers=bearer(token))
    assert verified.status_code == 200 and verified.json()["match"] is True, verified.text  # the route, not lean
    got = http.post(RETRIEVE, json={"personal_id": two["personal_id"], "purpose": PURPOSE,
                                    "fields": ["full_name", "phone"]}, headers=bearer(token))
    assert got.status_code == 200, got.text
    fields = got.json()["fields"]
    assert fields["full_name"]["value"] == two["full_name"] and fields["phone"]["value"] is None  # no real phone
    assert fields["full_name"]["source"].startswith("sandbox:synth:seed=")
    batch = http.post(BATCH, json={"purpose": PURPOSE, "items": [{"personal_id": p["personal_id"], "sex": p["sex"]}
                                                                 for p in sandbox]}, headers=bearer(token))
    assert batch.status_code == 200 and [i["match"] for i in batch.json()["items"]] == [True] * 3
    lines = b"\n".join(orjson.dumps({"personal_id": p["personal_id"], "sex": p["sex"]}) for p in sandbox)
    started = http.post(f"{JOBS}?purpose={PURPOSE}", content=lines,
                        headers=bearer(token, **{"content-type": "application/x-ndjson"}))
    assert started.status_code == 202, started.text
    assert _wait(http, token, started.json()["job_id"]) | {"job_id": 0} == {
        "job_id": 0, "state": "done", "total": 3, "done": 3, "error": None,
        "results_url": started.json()["results_url"]}
    results = http.get(started.json()["results_url"], headers=bearer(token)).text.splitlines()
    assert [orjson.loads(r)["match"] for r in results] == [True] * 3
    pushed = http.post(PUSH, json={"source": "bhyt", "purpose": PUSH_PURPOSE, "records": [
        {"so_dinh_danh": three["personal_id"], "ho_ten": three["full_name"], "ma_the": _card()}]},
        headers=bearer(token))
    assert pushed.status_code == 200 and pushed.json()["records"] == 1, pushed.text


def test_a_test_key_reaches_only_the_sandbox_before_and_after_go_live(xhttp: httpx.Client,
                                                                      database: Database) -> None:
    bank = onboard(xhttp, POLICY, org_type="sector_database_owner", until=7,  # onboarding, test key issued
                   test_policy={"rate_per_second": 100})
    real = resident(xhttp, sex="1")["personal_id"]
    nobody = unique_number()  # well formed, held by no one: the same refusal, so no oracle of who exists
    token = bank.test_token(xhttp)
    sandbox = sandbox_people(xhttp, token, 3)
    ids = [p["personal_id"] for p in sandbox]
    tag = f"sbx-{uuid.uuid4().hex[:8]}"
    _refused_everywhere(xhttp, database, bank, token, real, ids[:2], f"{tag}-a")
    _refused_everywhere(xhttp, database, bank, token, nobody, ids[:2], f"{tag}-b")
    _refused_everywhere(xhttp, database, bank, token, None, ids[:2], f"{tag}-c")  # a push naming no one
    _served_everywhere(xhttp, token, sandbox)

    assert post_step(xhttp, bank.request_id, 8, {}).status_code == 200
    nine = step_body(9, bank.test_key, bank.key)
    nine["data"]["policy"] = POLICY
    assert post_step(xhttp, bank.request_id, 9, nine).status_code == 200
    assert post_step(xhttp, bank.request_id, 10, {}).status_code == 200
    live = bank.test_token(xhttp)
    _refused_everywhere(xhttp, database, bank, live, real, ids[:2], f"{tag}-d")  # live: still never real people
    _served_everywhere(xhttp, live, sandbox)
    listed = xhttp.get("/exchange/v1/sandbox/residents", params={"limit": 2}, headers=bearer(live))
    assert listed.status_code == 200 and len(listed.json()["residents"]) == 2 and listed.json()["next_after"]


def test_production_keys_are_unchanged_and_never_see_the_sandbox(xhttp: httpx.Client, database: Database) -> None:
    bank = onboard(xhttp, POLICY, org_type="sector_database_owner", test_policy={"rate_per_second": 100})
    person = resident(xhttp, sex="1")
    token = bank.token(xhttp)
    [synthetic] = sandbox_people(xhttp, bank.test_token(xhttp), 1)
    ok = xhttp.post(VERIFY, json={"personal_id": person["personal_id"], "purpose": PURPOSE, "sex": "1"},
                    headers=bearer(token))
    assert ok.status_code == 200 and ok.json()["match"] is True
    unseen = xhttp.post(VERIFY, json={"personal_id": synthetic["personal_id"], "purpose": PURPOSE,
                                      "full_name": synthetic["full_name"]}, headers=bearer(token))
    assert unseen.status_code == 200 and unseen.json()["code"] == "resident_not_found", unseen.text
    assert unseen.json()["match"] is False  # a synthetic identity never passes a production check
    assert_problem(xhttp.post(RETRIEVE, json={"personal_id": synthetic["personal_id"], "purpose": PURPOSE,
                                              "fields": ["full_name"]}, headers=bearer(token)),
                   404, "resident_not_found")
    batch = xhttp.post(BATCH, json={"purpose": PURPOSE, "items": [{"personal_id": synthetic["personal_id"]},
                                                                  {"personal_id": person["personal_id"], "sex": "1"}]},
                       headers=bearer(token))
    assert [i["code"] for i in batch.json()["items"]] == ["resident_not_found", "ok"]
    assert_problem(xhttp.get("/exchange/v1/sandbox/residents", headers=bearer(token)), 403,
                   "test_credentials_required")


def test_test_calls_have_their_own_policy_and_quota(xhttp: httpx.Client) -> None:
    started = onboard(xhttp, grant(services=["verify"], fields=["full_name"], daily_quota=50), until=6)
    seven = step_body(7, started.test_key)
    seven["data"]["test_policy"] = {"daily_quota": 4}
    assert post_step(xhttp, started.request_id, 7, seven).status_code == 200
    token = started.test_token(xhttp)
    one = sandbox_people(xhttp, token, 1)[0]
    beyond = xhttp.post(VERIFY, json={"personal_id": one["personal_id"], "purpose": "marketing", "sex": "1"},
                        headers=bearer(token))
    assert {"rule": "purpose_not_allowed", "value": "marketing"} in \
        assert_problem(beyond, 403, "policy_denied")["denials"]  # the test policy: the letter's purposes
    made = sandbox_calls(xhttp, started.identifier, started.test_key, SERVICES, FIELDS)  # 1 + 1 + 2 = 4 records
    assert made == {"verify": 1, "retrieve": 1, "batch_verify": 2}
    over = xhttp.post(VERIFY, json={"personal_id": one["personal_id"], "purpose": PURPOSE, "sex": one["sex"]},
                      headers=bearer(token))
    assert_problem(over, 429, "quota_exceeded")  # the test quota (4 a day), not the production one
    for number in (8, 9, 10):
        body = step_body(number, started.test_key, started.key)
        if number == 9:
            body["data"]["policy"] = grant(services=["verify"], fields=["full_name"], daily_quota=50)
        assert post_step(xhttp, started.request_id, number, body).status_code == 200
    person = resident(xhttp, sex="1")
    production = xhttp.post(VERIFY, json={"personal_id": person["personal_id"], "purpose": PURPOSE,
                                          "full_name": person["full_name"]}, headers=bearer(started.token(xhttp)))
    assert production.status_code == 200 and production.json()["match"] is True  # its own quota
    retrieve = xhttp.post(RETRIEVE, json={"personal_id": person["personal_id"], "purpose": PURPOSE,
                                          "fields": ["full_name"]}, headers=bearer(started.token(xhttp)))
    assert {"rule": "service_not_allowed", "value": "retrieve"} in \
        assert_problem(retrieve, 403, "policy_denied")["denials"]  # production: what step 9 granted
    policy = xhttp.get(f"/agencies/systems/{started.identifier}/policy", headers=ACTOR).json()
    assert [(v["environment"], v["daily_quota"]) for v in policy] == [("production", 50), ("test", 4)]
