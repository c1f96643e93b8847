"""Step 9 grants the sector sources a system may push for: only those its letter asked, only with the
enrichment_push service, only sources this deployment synchronises; the policy view shows them.  The test
policy of step 7 grants the letter's sources this deployment synchronises, and step 8 wants a test push."""

from __future__ import annotations

from typing import Any

import httpx

from tests.agencies.factories import ACTOR, ClientKey, assert_problem, letter, post_step, sandbox_calls, step_body


def _until_step_8(http: httpx.Client, sources: list[str]) -> tuple[int, str, ClientKey]:
    body = letter(org_type="sector_database_owner", services=["verify", "enrichment_push"])
    body["sources"] = sources
    started = http.post("/agencies/onboarding", json=body, headers=ACTOR)
    assert started.status_code == 201, started.text
    request_id, identifier, test_key = started.json()["request_id"], started.json()["system"], ClientKey()
    for number in range(2, 9):
        if number == 8:
            without_push = assert_problem(post_step(http, request_id, 8, {}), 422, "onboarding_step_invalid")
            assert without_push["missing"] == ["enrichment_push", "verify"]
            sandbox_calls(http, identifier, test_key, ["verify", "enrichment_push"], body["fields"],
                          purpose="dong_bo_bhyt", sources=["bhyt"])
        assert post_step(http, request_id, number, step_body(number, test_key)).status_code == 200
    return request_id, identifier, ClientKey()


def _step_9(http: httpx.Client, request_id: int, key: ClientKey, **policy: Any) -> httpx.Response:
    body = step_body(9, production_key=key)
    body["data"]["policy"] = {"services": ["enrichment_push"], "purposes": ["dong_bo_bhyt"], "daily_quota": 10_000,
                              "rate_per_second": 5, **policy}
    return post_step(http, request_id, 9, body)


def test_step_nine_grants_only_requested_known_sources_with_the_push_service(http: httpx.Client) -> None:
    request_id, system, key = _until_step_8(http, ["bhyt", "hocsinh"])
    beyond = assert_problem(_step_9(http, request_id, key, sources=["thue"]), 422, "onboarding_step_invalid")
    assert beyond["rule"] == "sources_beyond_request" and beyond["beyond"] == ["thue"]
    without = _step_9(http, request_id, key, services=["verify"], sources=["bhyt"])
    assert assert_problem(without, 422, "onboarding_step_invalid")["rule"] == "sources_without_push"
    unknown = assert_problem(_step_9(http, request_id, key, sources=["hocsinh"]), 422, "onboarding_step_invalid")
    assert unknown["rule"] == "source_unknown" and unknown["unknown"] == ["hocsinh"]  # not declared here
    assert_problem(_step_9(http, request_id, key, sources=["BHYT"]), 422, "validation_failed")
    assert _step_9(http, request_id, key, sources=["bhyt"]).status_code == 200
    versions = http.get(f"/agencies/systems/{system}/policy", headers=ACTOR).json()
    assert [(v["environment"], v["sources"]) for v in versions] == [("production", ["bhyt"]), ("test", ["bhyt"])]
