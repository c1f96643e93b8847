"""X-Road REST headers: echo and generated X-Road-Id, X-Road-Request-Hash as documented, relayed requests."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import httpx

from dancu.db import Database
from dancu.exchange.settings import get_exchange_settings
from tests.agencies.factories import ACTOR, approved_security, assert_problem
from tests.exchange.helpers import PURPOSE, bearer, entries, grant, onboard, resident


def _expected_hash(headers: dict[str, str], body: bytes) -> str:
    """Recomputed independently from docs/integrators.md."""
    order = ["x-road-client", "x-road-id", "x-road-userid", "x-road-issue", "x-road-represented-party"]
    lowered = {k.lower(): v for k, v in headers.items()}
    canonical = "".join(f"{name}:{lowered[name].strip()}\n" for name in order if name in lowered).encode()
    inner = hashlib.sha512(canonical).digest() + hashlib.sha512(body).digest()
    return base64.b64encode(hashlib.sha512(inner).digest()).decode()


def test_request_hash_and_ids(xhttp: httpx.Client, database: Database) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp)
    body = json.dumps({"personal_id": person["personal_id"], "purpose": PURPOSE, "sex": "1"}).encode()
    xroad = {"X-Road-Client": system.identifier, "X-Road-Id": f"id-{uuid.uuid4()}", "X-Road-UserId": "VN012345"}
    response = xhttp.post("/exchange/v1/verify", content=body,
                          headers=bearer(token, **xroad, **{"content-type": "application/json"}))
    assert response.status_code == 200, response.text
    assert response.headers["X-Road-Request-Hash"] == _expected_hash(xroad, body)
    assert response.headers["X-Road-Id"] == xroad["X-Road-Id"]
    assert response.headers["X-Road-UserId"] == "VN012345"
    [entry] = entries(database, correlation=xroad["X-Road-Id"])
    assert bytes(entry["request_hash"]) == base64.b64decode(response.headers["X-Road-Request-Hash"]) \
        or entry["request_hash"] == base64.b64decode(response.headers["X-Road-Request-Hash"]).hex()
    assert entry["end_user"] == "VN012345" and entry["relaying_platform"] is None

    generated = xhttp.post("/exchange/v1/verify", content=body,
                           headers=bearer(token, **{"content-type": "application/json"}))
    assert uuid.UUID(generated.headers["X-Road-Id"])
    assert generated.headers["X-Road-Request-Hash"] == _expected_hash({}, body)
    failed = xhttp.post("/exchange/v1/verify", json={"personal_id": person["personal_id"]}, headers=bearer(token))
    assert failed.headers["X-Road-Error"] == "purpose_required" and "X-Road-Request-Hash" in failed.headers

    r1 = xhttp.post(f"/r1/{get_exchange_settings().xroad_provider}/verify", content=body,
                    headers=bearer(token, **{"content-type": "application/json"}))
    assert r1.status_code == 200 and r1.json()["match"] is True


def test_relayed_requests(xhttp: httpx.Client, database: Database) -> None:
    platform = onboard(xhttp, grant(), org_type="province", kind="integration_platform", security=approved_security())
    bank = onboard(xhttp, grant(must_name_end_user=True), via=platform)  # its step-8 test calls relayed too
    person = resident(xhttp)
    pid = person["personal_id"]
    token = platform.token(xhttp)
    body = {"personal_id": pid, "purpose": PURPOSE, "sex": "1"}

    no_user = xhttp.post("/exchange/v1/verify", json=body,
                         headers=bearer(token, **{"X-Road-Client": bank.identifier}))
    denials = assert_problem(no_user, 403, "policy_denied")["denials"]
    assert {"rule": "end_user_required"} in denials

    correlation = f"relay-{uuid.uuid4()}"
    relayed = xhttp.post("/exchange/v1/verify", json=body, headers=bearer(
        token, **{"X-Road-Client": bank.identifier, "X-Road-UserId": "VN001", "X-Road-Id": correlation}))
    assert relayed.status_code == 200, relayed.text
    assert relayed.headers["X-Road-Client"] == bank.identifier
    [entry] = entries(database, correlation=correlation)
    assert entry["client_system"] == bank.identifier and entry["relaying_platform"] == platform.identifier
    assert entry["end_user"] == "VN001"

    other_bank = onboard(xhttp, grant())
    refused = xhttp.post("/exchange/v1/verify", json=body, headers=bearer(
        other_bank.token(xhttp), **{"X-Road-Client": bank.identifier, "X-Road-Id": correlation + "-x"}))
    assert_problem(refused, 403, "relay_not_allowed")
    [logged] = entries(database, correlation=correlation + "-x")
    assert logged["client_system"] == other_bank.identifier and logged["result"] == "denied"

    stranger = xhttp.post("/exchange/v1/verify", json=body, headers=bearer(
        token, **{"X-Road-Client": other_bank.identifier}))
    assert_problem(stranger, 403, "relayed_system_not_allowed")
    assert_problem(xhttp.post("/exchange/v1/verify", json=body, headers=bearer(token, **{"X-Road-Client": "a/b"})),
                   400, "xroad_client_invalid")


def test_the_connection_model_is_enforced(xhttp: httpx.Client, database: Database) -> None:
    """A system declared at step 4 to connect through an LGSP platform may not call on its own; through its
    approved, live platform it may; a suspended or terminated platform stops it.  Every refusal is logged."""
    platform = onboard(xhttp, grant(), org_type="province", kind="integration_platform", security=approved_security())
    bank = onboard(xhttp, grant(), via=platform)
    steps = xhttp.get(f"/agencies/onboarding/{bank.request_id}", headers=ACTOR).json()["steps"]
    assert steps[7]["data"]["relaying_platforms"] == [platform.identifier]  # its test run came through it
    pid = resident(xhttp)["personal_id"]
    body = {"personal_id": pid, "purpose": PURPOSE, "sex": "1"}
    bank_token, platform_token = bank.token(xhttp), platform.token(xhttp)  # held through what follows

    def direct(tag: str) -> httpx.Response:
        return xhttp.post("/exchange/v1/verify", json=body, headers=bearer(bank_token, **{"X-Road-Id": tag}))

    def relayed(tag: str) -> httpx.Response:
        return xhttp.post("/exchange/v1/verify", json=body, headers=bearer(
            platform_token, **{"X-Road-Client": bank.identifier, "X-Road-Id": tag}))

    tag = f"model-{uuid.uuid4()}"
    refused = assert_problem(direct(f"{tag}-1"), 403, "direct_call_not_allowed")
    assert refused["via_platform"] == platform.identifier and refused["platform_status"] == "active"
    assert refused["detail_en"].startswith(f"System {bank.identifier} connects through platform")
    naming_itself = xhttp.post("/exchange/v1/verify", json=body, headers=bearer(
        bank_token, **{"X-Road-Client": bank.identifier}))
    assert_problem(naming_itself, 403, "direct_call_not_allowed")
    retrieve = xhttp.post("/exchange/v1/retrieve", json={"personal_id": pid, "purpose": PURPOSE,
                                                         "fields": ["full_name"]}, headers=bearer(bank_token))
    assert_problem(retrieve, 403, "direct_call_not_allowed")
    assert relayed(f"{tag}-2").status_code == 200
    test_direct = xhttp.get("/exchange/v1/sandbox/residents", headers=bearer(bank.test_token(xhttp)))
    assert_problem(test_direct, 403, "direct_call_not_allowed")  # in the test environment too

    platform_path = f"/agencies/systems/{platform.identifier}"
    assert xhttp.post(f"{platform_path}/suspend", json={"reason": "đánh giá lại"}, headers=ACTOR).status_code == 200
    assert_problem(relayed(f"{tag}-3"), 403, "system_suspended")
    assert assert_problem(direct(f"{tag}-4"), 403, "direct_call_not_allowed")["platform_status"] == "suspended"
    assert xhttp.post(f"{platform_path}/resume", json={}, headers=ACTOR).status_code == 200
    assert relayed(f"{tag}-5").status_code == 200
    assert xhttp.post(f"{platform_path}/terminate", json={"reason": "thu hồi phê duyệt"},
                      headers=ACTOR).status_code == 200
    after = relayed(f"{tag}-6")
    assert after.status_code in (401, 403) and after.json()["code"] in ("credential_revoked", "system_terminated")
    assert assert_problem(direct(f"{tag}-7"), 403, "direct_call_not_allowed")["platform_status"] == "terminated"

    log = {e["correlation_id"]: e for e in entries(database, correlation=tag)}
    assert (log[f"{tag}-1"]["result"], log[f"{tag}-1"]["error_code"]) == ("denied", "direct_call_not_allowed")
    assert log[f"{tag}-1"]["client_system"] == bank.identifier and log[f"{tag}-1"]["relaying_platform"] is None
    assert log[f"{tag}-2"]["result"] == "ok" and log[f"{tag}-2"]["relaying_platform"] == platform.identifier
    assert log[f"{tag}-3"]["error_code"] == "system_suspended" and log[f"{tag}-3"]["client_system"] == \
        platform.identifier
    assert log[f"{tag}-7"]["error_code"] == "direct_call_not_allowed"
    assert all(log[f"{tag}-{n}"]["fields_disclosed"] == [] for n in (1, 3, 4, 6, 7))
