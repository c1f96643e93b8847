"""Credentials over real HTTP: client assertions (RFC 7523), access tokens, and status checked per request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dancu.agencies.settings import get_agency_settings
from tests.agencies.factories import ACTOR, ClientKey, assert_problem, token_form, walk


@pytest.fixture
def live_bank(http: httpx.Client) -> tuple[str, ClientKey, ClientKey]:
    """A bank taken live: (identifier, test key, production key)."""
    test_key, production_key = ClientKey(), ClientKey("ES256")
    _, identifier = walk(http, test_key=test_key, production_key=production_key)
    return identifier, test_key, production_key


def audience(http: httpx.Client) -> str:
    return f"{str(http.base_url).rstrip('/')}/oauth/token"


def get_token(http: httpx.Client, key: ClientKey, client_id: str, **kwargs: Any) -> httpx.Response:
    return http.post("/oauth/token", data=token_form(key, client_id, audience(http), **kwargs))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_round_trip_and_me(http: httpx.Client, live_bank: tuple[str, ClientKey, ClientKey]) -> None:
    identifier, _, production_key = live_bank
    response = get_token(http, production_key, identifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert body["credential_kind"] == "production"
    me = http.get("/agencies/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json() == {"system": identifier, "status": "active", "credential_kind": "production"}
    assert http.get("/oauth/jwks.json").json()["keys"][0]["crv"] == "Ed25519"


def test_test_credentials_work_during_onboarding_but_production_ones_not_before_go_live(http: httpx.Client) -> None:
    test_key, production_key = ClientKey(), ClientKey()
    _, identifier = walk(http, until=9, test_key=test_key, production_key=production_key)
    token = get_token(http, test_key, identifier).json()["access_token"]
    assert http.get("/agencies/me", headers=bearer(token)).json()["credential_kind"] == "test"
    early = get_token(http, production_key, identifier)
    assert early.status_code == 400 and early.json()["error"] == "unauthorized_client"
    assert early.json()["dancu_code"] == "system_not_live"


def test_replayed_expired_and_misaddressed_assertions_are_refused(
    http: httpx.Client, live_bank: tuple[str, ClientKey, ClientKey]
) -> None:
    identifier, _, key = live_bank
    assert get_token(http, key, identifier, jti="replayed-jti-1").status_code == 200
    replay = get_token(http, key, identifier, jti="replayed-jti-1")
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_client"
    assert "replayed" in replay.json()["error_description"]
    expired = get_token(http, key, identifier, exp_in=-120, iat_offset=-400)
    assert expired.status_code == 401 and "expired" in expired.json()["error_description"]
    too_long = get_token(http, key, identifier, exp_in=3600)
    assert too_long.status_code == 401 and "at most" in too_long.json()["error_description"]
    wrong_aud = http.post("/oauth/token", data=token_form(key, identifier, "https://elsewhere.example/token"))
    assert wrong_aud.status_code == 401 and wrong_aud.json()["error"] == "invalid_client"
    other_key = ClientKey()
    forged = http.post("/oauth/token", data=token_form(other_key, identifier, audience(http)))
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_client"


def test_token_endpoint_errors_follow_rfc6749(http: httpx.Client, live_bank: tuple[str, ClientKey, ClientKey]) -> None:
    identifier, _, key = live_bank
    form = token_form(key, identifier, audience(http))
    wrong_grant = http.post("/oauth/token", data={**form, "grant_type": "password"})
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"
    assert http.post("/oauth/token", data={}).json()["error"] == "invalid_request"
    as_json = http.post("/oauth/token", json=form)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    garbage = http.post("/oauth/token", data={**form, "client_assertion": "not.a.jwt"})
    assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_client"
    unknown = http.post("/oauth/token", data=token_form(key, "VN/COM/NOBODY/X", audience(http)))
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    no_auth = http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert no_auth.status_code == 401


def test_bad_bearer_tokens_are_problems(http: httpx.Client) -> None:
    assert_problem(http.get("/agencies/me"), 401, "invalid_token")
    assert_problem(http.get("/agencies/me", headers=bearer("abc.def.ghi")), 401, "invalid_token")


def test_key_rotation_and_revocation_on_next_request(
    http: httpx.Client, live_bank: tuple[str, ClientKey, ClientKey]
) -> None:
    identifier, _, old_key = live_bank
    new_key = ClientKey()
    added = http.post(f"/agencies/systems/{identifier}/credentials", headers=ACTOR,
                      json={"kind": "production", "jwk": new_key.public_jwk})
    assert added.status_code == 201, added.text
    old_token = get_token(http, old_key, identifier).json()["access_token"]
    new_token = get_token(http, new_key, identifier).json()["access_token"]
    assert http.get("/agencies/me", headers=bearer(old_token)).status_code == 200
    revoked = http.delete(f"/agencies/systems/{identifier}/credentials/{old_key.kid}", headers=ACTOR)
    assert revoked.status_code == 204
    assert_problem(http.get("/agencies/me", headers=bearer(old_token)), 401, "credential_revoked")
    assert http.get("/agencies/me", headers=bearer(new_token)).status_code == 200
    assert get_token(http, old_key, identifier).json()["error"] == "invalid_client"


def test_suspension_applies_at_once_and_resumption_restores(
    http: httpx.Client, live_bank: tuple[str, ClientKey, ClientKey]
) -> None:
    identifier, _, key = live_bank
    token = get_token(http, key, identifier).json()["access_token"]
    suspended = http.post(f"/agencies/systems/{identifier}/suspend", headers=ACTOR,
                          json={"reason": "Nghi vấn khai thác sai mục đích"})
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    refused = assert_problem(http.get("/agencies/me", headers=bearer(token)), 403, "system_suspended")
    assert "sai mục đích" in refused["detail"]
    no_token = get_token(http, key, identifier)
    assert no_token.json()["dancu_code"] == "system_suspended"
    assert http.post(f"/agencies/systems/{identifier}/resume", headers=ACTOR, json={}).json()["status"] == "active"
    assert http.get("/agencies/me", headers=bearer(token)).status_code == 200


def test_suspension_with_an_end_date_lifts_itself(
    http: httpx.Client, live_bank: tuple[str, ClientKey, ClientKey]
) -> None:
    identifier, _, key = live_bank
    past = http.post(f"/agencies/systems/{identifier}/suspend", headers=ACTOR,
                     json={"reason": "x", "until": "2000-01-01T00:00:00Z"})
    assert_problem(past, 422, "validation_failed")
    soon = http.post(f"/agencies/systems/{identifier}/suspend", headers=ACTOR,
                     json={"reason": "Bảo trì", "until": "2999-01-01T00:00:00Z"})
    assert soon.json()["suspended_until"].startswith("2999")
    refused = get_token(http, key, identifier).json()
    assert refused["dancu_code"] == "system_suspended" and "Bảo trì" in refused["error_description"]


def test_termination_refuses_at_once_and_keeps_records(
    http: httpx.Client, live_bank: tuple[str, ClientKey, ClientKey]
) -> None:
    identifier, _, key = live_bank
    token = get_token(http, key, identifier).json()["access_token"]
    ended = http.post(f"/agencies/systems/{identifier}/terminate", headers=ACTOR, json={"reason": "Hết nhu cầu"})
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    assert all(c["revoked_at"] for c in ended.json()["credentials"])
    assert_problem(http.get("/agencies/me", headers=bearer(token)), 401, "credential_revoked")
    policy = http.get(f"/agencies/systems/{identifier}/policy", headers=ACTOR).json()
    assert policy and policy[-1]["valid_to"] is not None
    again = http.post(f"/agencies/systems/{identifier}/terminate", headers=ACTOR, json={})
    assert_problem(again, 409, "invalid_status_change")


def test_terminated_system_is_refused_as_terminated(http: httpx.Client) -> None:
    """Even a credential that somehow escaped revocation meets system_terminated (checked per request)."""
    test_key = ClientKey()
    request_id, identifier = walk(http, until=8, test_key=test_key)
    token = get_token(http, test_key, identifier).json()["access_token"]
    assert http.get("/agencies/me", headers=bearer(token)).status_code == 200
    http.post(f"/agencies/systems/{identifier}/terminate", headers=ACTOR, json={"reason": "Rút hồ sơ"})
    assert http.get(f"/agencies/onboarding/{request_id}", headers=ACTOR).json()["state"] == "terminated"
    assert_problem(http.get("/agencies/me", headers=bearer(token)), 401, "credential_revoked")


def test_certificate_bound_credential(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    header = "X-SSL-Client-SHA256"
    monkeypatch.setattr(get_agency_settings(), "mtls_thumbprint_header", header)
    thumb_hex = "ab" * 32
    cert_step = {"data": {"cert_thumbprint": thumb_hex}}
    _, identifier = walk(http, until=7, bodies={7: cert_step})
    form = {"grant_type": "client_credentials", "client_id": identifier}
    refused = http.post("/oauth/token", data=form, headers={header: "cd" * 32})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    issued = http.post("/oauth/token", data=form, headers={header: thumb_hex.upper()})
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert http.get("/agencies/me", headers={**bearer(token), header: thumb_hex}).status_code == 200
    stolen = http.get("/agencies/me", headers=bearer(token))
    assert_problem(stolen, 401, "invalid_token")
