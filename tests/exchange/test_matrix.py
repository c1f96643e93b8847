"""No field leaves beyond policy, for every organisation type, service and field; no request passes
without valid, current credentials."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.agencies.domain import OrganisationType
from dancu.agencies.settings import get_agency_settings
from dancu.agencies.tokens import platform_key
from dancu.registry.domain import RECORD_FIELDS
from tests.agencies.factories import ACTOR, assert_problem
from tests.exchange.helpers import PURPOSE, System, bearer, grant, onboard, resident

ALLOWED_FIELDS = ["full_name", "date_of_birth"]
FIELDS = ["full_name", "sex", "permanent_address"]
SERVICES = ["verify", "retrieve", "batch_verify", "enrichment_push"]
PUSH_KEYS = {"job_id", "state", "source", "batch_sha256", "records", "processed", "outcomes", "reasons", "rejected",
             "demographic", "job_url", "replayed", "correlation_id", "log_seq"}
_systems: dict[str, tuple[System, str, list[str]]] = {}


def services_for(org_type: str) -> list[str]:
    """Telecoms clean lists (verify, batch); sector database owners verify and push their sector's data (bhyt);
    others verify and retrieve — a varied grid of policies."""
    return {"telecom": ["verify", "batch_verify"], "sector_database_owner": ["verify", "enrichment_push"]}.get(
        org_type, ["verify", "retrieve"])


def system_for(http: httpx.Client, org_type: str) -> tuple[System, str, list[str]]:
    if org_type not in _systems:
        services = services_for(org_type)
        sources = ["bhyt"] if "enrichment_push" in services else []
        system = onboard(http, grant(services=services, fields=ALLOWED_FIELDS, sources=sources), org_type=org_type)
        _systems[org_type] = (system, system.token(http), services)
    return _systems[org_type]


def call(http: httpx.Client, token: str, service: str, field: str, pid: str) -> httpx.Response:
    claim: dict[str, Any] = {"full_name": {"full_name": "Nguyễn Văn A"}, "sex": {"sex": "1"},
                             "permanent_address": {"address": {"text": "12 phố Huế"}}}[field]
    if service == "verify":
        return http.post("/exchange/v1/verify", json={"personal_id": pid, "purpose": PURPOSE, **claim},
                         headers=bearer(token))
    if service == "retrieve":
        return http.post("/exchange/v1/retrieve", json={"personal_id": pid, "purpose": PURPOSE, "fields": [field]},
                         headers=bearer(token))
    if service == "enrichment_push":  # the same batch for every field: the first push links, the others replay
        record = {"so_dinh_danh": pid, "ho_ten": "Nguyễn Văn A", "ma_the": f"GD4{pid}"}
        return http.post("/exchange/v1/enrichment", json={"source": "bhyt", "purpose": PURPOSE, "records": [record]},
                         headers=bearer(token))
    return http.post("/exchange/v1/verify/batch", json={"purpose": PURPOSE, "items": [{"personal_id": pid, **claim}]},
                     headers=bearer(token))


@pytest.fixture(scope="module")
def person(exchange_server: str) -> dict[str, Any]:
    with httpx.Client(base_url=exchange_server) as http:
        return resident(http, sex="1")


@pytest.mark.parametrize("org_type", [t.value for t in OrganisationType])
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("field", FIELDS)
def test_no_field_beyond_policy(xhttp: httpx.Client, person: dict[str, Any], org_type: str, service: str,
                                field: str) -> None:
    _, token, services = system_for(xhttp, org_type)
    response = call(xhttp, token, service, field, person["personal_id"])
    allowed = service in services and (field in ALLOWED_FIELDS or service == "enrichment_push")
    if not allowed:
        body = assert_problem(response, 403, "policy_denied")
        rules = {d["rule"] for d in body["denials"]}
        assert ("service_not_allowed" in rules) if service not in services else ("field_not_allowed" in rules)
        if service in services:
            assert {"rule": "field_not_allowed", "field": field} in body["denials"]
        assert "value" not in str(body.get("fields", ""))
        return
    assert response.status_code == 200, response.text
    body = response.json()
    if service == "enrichment_push":  # counts only: nothing of the record on file comes back
        assert set(body) <= PUSH_KEYS and body["records"] == 1
        assert person["full_name"] not in response.text and person["date_of_birth"] not in response.text
        return
    if service == "retrieve":
        assert set(body["fields"]) == {field}
    else:
        result = body if service == "verify" else body["items"][0]
        assert set(result) <= {"match", "code", "fields", "date_of_birth_precision", "correlation_id", "log_seq",
                               "index"}
        assert set(result["fields"].values()) <= {"match", "no_match", "not_provided"}


# -- credentials ------------------------------------------------------------------------------------------
def _reissue(token: str, **changes: Any) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    key = platform_key(get_agency_settings())
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def _verify(http: httpx.Client, headers: dict[str, str], pid: str) -> httpx.Response:
    return http.post("/exchange/v1/verify", json={"personal_id": pid, "purpose": PURPOSE, "full_name": "A"},
                     headers=headers)


def test_no_request_passes_without_valid_current_credentials(xhttp: httpx.Client, person: dict[str, Any]) -> None:
    pid = person["personal_id"]
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    assert _verify(xhttp, bearer(token), pid).status_code == 200
    assert_problem(_verify(xhttp, {}, pid), 401, "invalid_token")
    assert_problem(_verify(xhttp, bearer("not-a-jwt"), pid), 401, "invalid_token")
    past = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp())
    assert_problem(_verify(xhttp, bearer(_reissue(token, iat=past - 60, exp=past)), pid), 401, "invalid_token")
    assert_problem(_verify(xhttp, bearer(_reissue(token, aud="another-api")), pid), 401, "invalid_token")
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}),
                        Ed25519PrivateKey.generate(), algorithm="EdDSA")
    assert_problem(_verify(xhttp, bearer(forged), pid), 401, "invalid_token")
    # an unauthenticated request learns nothing, not even that its body is malformed
    assert_problem(xhttp.post("/exchange/v1/verify", json={"bad": 1}), 401, "invalid_token")

    other = onboard(xhttp, grant())
    other_token = other.token(xhttp)
    revoked = xhttp.delete(f"/agencies/systems/{other.identifier}/credentials/{other.key.kid}", headers=ACTOR)
    assert revoked.status_code in (200, 204), revoked.text
    assert_problem(_verify(xhttp, bearer(other_token), pid), 401, "credential_revoked")

    assert xhttp.post(f"/agencies/systems/{system.identifier}/suspend", json={"reason": "audit"},
                      headers=ACTOR).status_code == 200
    assert_problem(_verify(xhttp, bearer(token), pid), 403, "system_suspended")
    assert xhttp.post(f"/agencies/systems/{system.identifier}/resume", json={}, headers=ACTOR).status_code == 200
    assert _verify(xhttp, bearer(token), pid).status_code == 200
    assert xhttp.post(f"/agencies/systems/{system.identifier}/terminate", json={},
                      headers=ACTOR).status_code == 200
    assert _verify(xhttp, bearer(token), pid).json()["code"] in ("credential_revoked", "system_terminated")


# -- every record field, random policies, random requests (property-based) ------------------------------
FILLED = ["full_name", "date_of_birth", "sex", "birth_place", "home_town", "ethnic_code", "religion_code",
          "nationality_code", "blood_type", "permanent_province", "permanent_commune", "permanent_address",
          "marital_status", "phone", "email"]  # what resident_payload() fills in
_field_systems: list[tuple[str, frozenset[str]]] = []


def field_systems(http: httpx.Client) -> list[tuple[str, frozenset[str]]]:
    """Four systems whose retrieve policies allow different, seeded subsets of every record field."""
    if not _field_systems:
        rng = random.Random(2026)
        for size in (1, 4, 9, len(RECORD_FIELDS) // 2):
            allowed = sorted(rng.sample(sorted(RECORD_FIELDS), size))
            system = onboard(http, grant(services=["retrieve"], fields=allowed))
            _field_systems.append((system.token(http), frozenset(allowed)))
    return _field_systems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 3), asked=st.lists(st.sampled_from(sorted(RECORD_FIELDS)), min_size=1, max_size=8,
                                              unique=True))
def test_retrieve_gives_exactly_the_allowed_fields_asked_for(xhttp: httpx.Client, person: dict[str, Any],
                                                            which: int, asked: list[str]) -> None:
    token, allowed = field_systems(xhttp)[which]
    response = xhttp.post("/exchange/v1/retrieve", json={"personal_id": person["personal_id"], "purpose": PURPOSE,
                                                         "fields": asked}, headers=bearer(token))
    beyond = sorted(set(asked) - allowed)
    values = {f: str(person.get(f) or "") for f in FILLED}
    if beyond:  # refused whole, each field beyond the policy named, no value of the record in the answer
        body = assert_problem(response, 403, "policy_denied")
        assert sorted(d["field"] for d in body["denials"] if d["rule"] == "field_not_allowed") == beyond
        assert not [f for f, v in values.items() if len(v) >= 4 and v in response.text]
        return
    assert response.status_code == 200, response.text
    fields = response.json()["fields"]
    assert set(fields) == set(asked)
    shown = " ".join(str(v["value"]) for v in fields.values())
    leaked = [f for f, v in values.items() if f not in asked and len(v) >= 4 and v in shown
              and not any(v in values.get(k, "") for k in asked)]  # "Hà Nội" may sit inside an asked address
    assert leaked == []
