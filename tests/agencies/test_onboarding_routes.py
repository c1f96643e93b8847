from __future__ import annotations

from datetime import datetime

import httpx

from tests.agencies.factories import (
    ACTOR,
    ClientKey,
    approved_security,
    assert_problem,
    doc,
    letter,
    live_platform,
    post_step,
    sandbox_calls,
    step_body,
    unique,
    walk,
)


def test_a_bank_walks_ten_steps_to_go_live(http: httpx.Client) -> None:
    request_id, identifier = walk(http)
    view = http.get(f"/agencies/onboarding/{request_id}", headers=ACTOR).json()
    assert view["state"] == "live" and view["next_step"] is None
    assert [s["step"] for s in view["steps"]] == list(range(1, 11))
    assert all(s["actor"] == "officer-c06" and s["recorded_at"] for s in view["steps"])
    assert view["steps"][4]["documents"][0]["name"] == "ho-so-cap-do-3.pdf"
    system = http.get(f"/agencies/systems/{identifier}", headers=ACTOR).json()
    assert system["status"] == "active" and system["connection_model"] == "direct"
    assert sorted(c["kind"] for c in system["credentials"]) == ["production", "test"]
    policy = http.get(f"/agencies/systems/{identifier}/policy", headers=ACTOR).json()
    assert policy[0]["version"] == 1 and policy[0]["valid_to"] is None
    assert policy[0]["environment"] == "production" and policy[0]["fields"] == ["date_of_birth", "full_name"]
    assert policy[1]["environment"] == "test" and policy[1]["version"] == 1 and policy[1]["valid_to"] is None
    assert policy[1]["fields"] == ["date_of_birth", "full_name", "permanent_address", "sex"]  # the letter's
    assert policy[1]["services"] == ["retrieve", "verify"] and policy[1]["daily_quota"] == 1_000
    eight = view["steps"][7]["data"]
    assert eight["calls"] == {"retrieve": 1, "verify": 1} and eight["total"] == 2
    assert datetime.fromisoformat(eight["since"]) == datetime.fromisoformat(view["steps"][6]["recorded_at"])


def test_steps_out_of_order_are_refused_with_the_expected_step(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=3)
    body = assert_problem(post_step(http, request_id, 5, step_body(5)), 409, "onboarding_step_out_of_order")
    assert body["expected_step"] == 4 and body["given_step"] == 5
    body = assert_problem(post_step(http, request_id, 3, step_body(3)), 409, "onboarding_step_out_of_order")
    assert body["expected_step"] == 4


def test_rejection_at_step_six_ends_the_request(http: httpx.Client) -> None:
    request_id, identifier = walk(http, until=5)
    no_reason = post_step(http, request_id, 6, {"decision": "reject"})
    assert_problem(no_reason, 422, "onboarding_step_invalid")
    unwritten = assert_problem(post_step(http, request_id, 6, {"decision": "reject", "notes": "Thiếu căn cứ"}), 422,
                               "onboarding_step_invalid")
    assert unwritten["rule"] == "decision_document_missing" and unwritten["step"] == 6
    rejected = post_step(http, request_id, 6, {"decision": "reject", "notes": "Không đủ căn cứ pháp lý",
                                               "documents": [doc("van-ban-tra-loi.pdf")]})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    body = assert_problem(post_step(http, request_id, 7, step_body(7, ClientKey())), 409,
                          "onboarding_step_out_of_order")
    assert body["expected_step"] is None
    assert http.get(f"/agencies/systems/{identifier}", headers=ACTOR).json()["status"] == "rejected"


def test_document_axis_only_for_portal_and_procedure_systems(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=3)
    axis = step_body(4, data={"connection_model": "document_axis"})
    body = assert_problem(post_step(http, request_id, 4, axis), 422, "onboarding_step_invalid")
    assert body["rule"] == "document_axis_not_allowed"
    portal_id, _ = walk(http, until=3, kind="public_service_portal", org_type="public_service_provider")
    assert post_step(http, portal_id, 4, axis).status_code == 200


def test_relaying_platform_needs_an_approved_assessment(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=4, kind="integration_platform", org_type="ministry")
    body = assert_problem(post_step(http, request_id, 5, step_body(5)), 422, "onboarding_step_invalid")
    assert body["rule"] == "relay_approval_required"
    assert post_step(http, request_id, 5, approved_security()).status_code == 200


def test_connection_through_a_platform_needs_a_live_relaying_platform(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=3)
    missing = step_body(4, data={"connection_model": "ndxp"})
    rule = assert_problem(post_step(http, request_id, 4, missing), 422, "onboarding_step_invalid")["rule"]
    assert rule == "platform_required"
    unknown = step_body(4, data={"connection_model": "lgsp", "via_platform": "VN/GOV/NOPE/LGSP"})
    rule = assert_problem(post_step(http, request_id, 4, unknown), 422, "onboarding_step_invalid")["rule"]
    assert rule == "platform_not_approved"
    via = step_body(4, data={"connection_model": "lgsp", "via_platform": live_platform(http)})
    assert post_step(http, request_id, 4, via).json()["next_step"] == 5


def test_security_level_below_three_is_refused(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=4)
    low = step_body(5)
    low["data"]["security_level"] = 2
    assert assert_problem(post_step(http, request_id, 5, low), 422, "onboarding_step_invalid")["rule"] == \
        "security_level_too_low"


def test_step_eight_is_refused_until_the_log_holds_the_systems_own_test_calls(http: httpx.Client) -> None:
    test_key = ClientKey()
    services, fields = ["verify", "retrieve", "batch_verify"], ["full_name", "sex"]
    request_id, identifier = walk(http, until=7, test_key=test_key, services=services, fields=fields)
    declared = post_step(http, request_id, 8, {"data": {"result": "passed", "calls": 12}})
    assert_problem(declared, 422, "validation_failed")  # a declared run is no run
    none = assert_problem(post_step(http, request_id, 8, {}), 422, "onboarding_step_invalid")
    assert none["rule"] == "test_calls_missing" and none["step"] == 8
    assert none["missing"] == ["batch_verify", "retrieve", "verify"] and none["calls"] == {}
    sandbox_calls(http, identifier, test_key, ["verify"], fields)
    some = assert_problem(post_step(http, request_id, 8, {}), 422, "onboarding_step_invalid")
    assert some["missing"] == ["batch_verify", "retrieve"] and some["calls"] == {"verify": 1}
    sandbox_calls(http, identifier, test_key, ["retrieve", "batch_verify"], fields)
    passed = post_step(http, request_id, 8, {"notes": "Chạy thử 3 dịch vụ"})
    assert passed.status_code == 200, passed.text
    eight = passed.json()["steps"][7]
    assert eight["data"]["calls"] == {"batch_verify": 2, "retrieve": 1, "verify": 1}
    assert eight["data"]["total"] == 4 and eight["data"]["required"] == ["batch_verify", "retrieve", "verify"]
    assert eight["data"]["first_seq"] <= eight["data"]["last_seq"] and eight["data"]["relaying_platforms"] == []
    assert eight["notes"] == "Chạy thử 3 dịch vụ" and eight["actor"] == "officer-c06"


def test_step_seven_activates_a_test_policy_within_the_letter(http: httpx.Client) -> None:
    request_id, identifier = walk(http, until=6, purposes=["kyc_account_opening", "aml_screening"])
    wider = step_body(7, ClientKey(), test_policy={"purposes": ["marketing"]})
    wider["data"]["test_policy"] = wider.pop("test_policy")
    problem = assert_problem(post_step(http, request_id, 7, wider), 422, "onboarding_step_invalid")
    assert problem["rule"] == "purposes_beyond_request" and problem["beyond"] == ["marketing"]
    chosen = step_body(7, ClientKey())
    chosen["data"]["test_policy"] = {"purposes": ["aml_screening"], "daily_quota": 20, "must_name_end_user": True}
    seven = post_step(http, request_id, 7, chosen)
    assert seven.status_code == 200, seven.text
    granted = seven.json()["steps"][6]["data"]["test_policy"]
    assert granted["purposes"] == ["aml_screening"] and granted["daily_quota"] == 20
    assert granted["rate_per_second"] == 10 and granted["must_name_end_user"] is True
    [test] = http.get(f"/agencies/systems/{identifier}/policy", headers=ACTOR).json()
    assert test["environment"] == "test" and test["purposes"] == ["aml_screening"] and test["daily_quota"] == 20


def test_policy_cannot_grant_beyond_the_request(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=8)
    body = step_body(9, ClientKey())
    body["data"]["policy"]["fields"] = ["full_name", "religion_code"]
    problem = assert_problem(post_step(http, request_id, 9, body), 422, "onboarding_step_invalid")
    assert problem["rule"] == "fields_beyond_request" and problem["beyond"] == ["religion_code"]


def test_step_data_is_validated_and_actor_required(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=2)
    bad = post_step(http, request_id, 3, {"data": {"shares": []}})
    assert_problem(bad, 422, "validation_failed")
    no_actor = http.post(f"/agencies/onboarding/{request_id}/steps/3", json=step_body(3))
    assert_problem(no_actor, 401, "operator_unauthenticated")
    unknown_field = letter(fields=["full_name", "shoe_size"])
    assert_problem(http.post("/agencies/onboarding", json=unknown_field, headers=ACTOR), 422, "validation_failed")
    assert_problem(http.get("/agencies/onboarding/999999999", headers=ACTOR), 404, "onboarding_not_found")


def test_same_system_cannot_be_requested_twice_while_open(http: httpx.Client) -> None:
    code = unique("DUP")
    assert http.post("/agencies/onboarding", json=letter(member_code=code), headers=ACTOR).status_code == 201
    again = http.post("/agencies/onboarding", json=letter(member_code=code), headers=ACTOR)
    assert_problem(again, 409, "system_exists")


def test_a_letter_without_the_letter_is_refused_and_leaves_nothing(http: httpx.Client) -> None:
    body = letter()
    body["documents"] = []
    problem = assert_problem(http.post("/agencies/onboarding", json=body, headers=ACTOR), 422,
                             "onboarding_step_invalid")
    assert problem["step"] == 1 and problem["rule"] == "letter_document_missing"
    assert "văn bản đề nghị" in problem["detail"] and "request letter" in problem["detail_en"]
    o = body["organisation"]
    member = f"{o['instance']}/{o['member_class']}/{o['member_code']}"
    assert_problem(http.get(f"/agencies/organisations/{member}", headers=ACTOR), 404, "organisation_not_found")
    assert http.post("/agencies/onboarding", json=letter(member_code=o["member_code"]),
                     headers=ACTOR).status_code == 201  # nothing was left behind to collide with


def test_security_and_decision_steps_need_their_documents(http: httpx.Client) -> None:
    request_id, _ = walk(http, until=4)
    bare = step_body(5)
    bare["documents"] = []
    assert assert_problem(post_step(http, request_id, 5, bare), 422, "onboarding_step_invalid")["rule"] == \
        "security_document_missing"
    assert post_step(http, request_id, 5, step_body(5)).status_code == 200
    approval = step_body(6)
    approval["documents"] = []
    problem = assert_problem(post_step(http, request_id, 6, approval), 422, "onboarding_step_invalid")
    assert problem["rule"] == "decision_document_missing"
    view = post_step(http, request_id, 6, step_body(6)).json()
    assert view["next_step"] == 7 and view["steps"][5]["documents"][0]["name"] == "quyet-dinh-phe-duyet.pdf"
    platform_id, _ = walk(http, until=4, kind="integration_platform", org_type="ministry")
    unassessed = approved_security()
    unassessed["documents"] = []
    problem = assert_problem(post_step(http, platform_id, 5, unassessed), 422, "onboarding_step_invalid")
    assert problem["rule"] == "security_document_missing" and "approved security assessment" in problem["detail_en"]
