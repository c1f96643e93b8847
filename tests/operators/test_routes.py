"""The admin API over real HTTP: accounts, tokens shown once, revocation and disabling on the next request."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from tests.operators.accounts import auth

ADMIN = auth("role-admin")


def new_operator(http: httpx.Client, *roles: str) -> str:
    username = f"api-{uuid.uuid4().hex[:8]}"
    created = http.post("/operators", headers=ADMIN, json={"username": username, "full_name": "Lê Thị Cúc",
                                                            "unit": "C06 — Phòng 5", "roles": list(roles)})
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "role-admin" and created.json()["tokens"] == []
    return username


def issue(http: httpx.Client, username: str, **body: object) -> tuple[str, int]:
    issued = http.post(f"/operators/{username}/tokens", headers=ADMIN, json=body)
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    return issued.json()["token"], issued.json()["details"]["token_id"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_issue_use_and_revoke_over_http(http: httpx.Client) -> None:
    username = new_operator(http, "inspector")
    token, token_id = issue(http, username, days=3, note="máy trạm phòng 5")
    me = http.get("/operators/me", headers=bearer(token)).json()
    assert (me["username"], me["roles"], me["token_id"]) == (username, ["inspector"], token_id)
    assert http.get("/ledger/flags", headers=bearer(token)).status_code == 200
    view = http.get(f"/operators/{username}", headers=ADMIN).json()
    [listed] = view["tokens"]
    assert listed["last_used_at"] and listed["hint"] == token[-4:] and "token" not in listed
    assert token not in http.get("/operators", headers=ADMIN).text
    assert http.delete(f"/operators/{username}/tokens/{token_id}", headers=ADMIN).status_code == 204
    assert http.get("/ledger/flags", headers=bearer(token)).status_code == 401


def test_roles_and_disabling_apply_to_the_next_request(http: httpx.Client) -> None:
    username = new_operator(http, "inspector")
    token, _ = issue(http, username)
    assert http.get("/sync/review", headers=bearer(token)).status_code == 403
    changed = http.put(f"/operators/{username}/roles", headers=ADMIN, json={"roles": ["reviewer"]})
    assert changed.json()["roles"] == ["reviewer"]
    assert http.get("/sync/review", headers=bearer(token)).status_code == 200
    assert http.get("/ledger/flags", headers=bearer(token)).status_code == 403
    disabled = http.post(f"/operators/{username}/disable", headers=ADMIN).json()
    assert disabled["active"] is False and disabled["disabled_by"] == "role-admin"
    assert http.get("/sync/review", headers=bearer(token)).status_code == 401
    refused = http.post(f"/operators/{username}/tokens", headers=ADMIN, json={})
    assert refused.status_code == 409 and refused.json()["code"] == "operator_disabled"
    assert http.post(f"/operators/{username}/enable", headers=ADMIN).json()["active"] is True
    assert http.get("/sync/review", headers=bearer(token)).status_code == 401  # old tokens stay revoked


def test_admin_errors(http: httpx.Client) -> None:
    username = new_operator(http, "inspector")
    again = http.post("/operators", headers=ADMIN, json={"username": username, "full_name": "A", "unit": "B",
                                                         "roles": ["inspector"]})
    assert again.status_code == 409 and again.json()["code"] == "operator_exists"
    bad_role = http.post("/operators", headers=ADMIN, json={"username": "x-new", "full_name": "A", "unit": "B",
                                                            "roles": ["root"]})
    assert bad_role.status_code == 422
    assert http.get("/operators/nobody-at-all", headers=ADMIN).json()["code"] == "operator_not_found"
    assert http.delete(f"/operators/{username}/tokens/999999999", headers=ADMIN).status_code == 404
    assert http.post(f"/operators/{username}/tokens", headers=ADMIN, json={"days": 9999}).status_code == 422
    selfish = http.post("/operators/role-admin/disable", headers=ADMIN)
    assert selfish.status_code == 409 and selfish.json()["code"] == "operator_self_lockout"


def test_a_refused_token_is_never_logged(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    username = new_operator(http, "inspector")
    token, token_id = issue(http, username)
    http.delete(f"/operators/{username}/tokens/{token_id}", headers=ADMIN)
    with caplog.at_level(logging.INFO):
        assert http.get("/ledger/flags", headers=bearer(token)).status_code == 401
        assert http.get("/ledger/flags", headers=bearer(token + "x")).status_code == 401
    refusals = [r for r in caplog.records if r.getMessage() == "operator token refused"]
    assert {getattr(r, "reason", None) for r in refusals} == {"token_revoked", "malformed_token"}
    assert token[4:20] not in caplog.text


def test_the_token_is_accepted_only_in_the_authorization_header(http: httpx.Client) -> None:
    username = new_operator(http, "inspector")
    token, _ = issue(http, username)
    assert http.get("/ledger/flags", params={"access_token": token}).status_code == 401
    assert http.get("/ledger/flags", headers={"Authorization": f"bearer {token}"}).status_code == 200
