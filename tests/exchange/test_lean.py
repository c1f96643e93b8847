"""The lean verify path (dancu.exchange.lean) over real HTTP: it answers exactly as the declared route
does, hands every unusual request to that route, and still reads the caller's standing on every request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from dancu.exchange import service
from dancu.exchange.lean import FastLaneApp
from tests.agencies.factories import approved_security, assert_problem
from tests.exchange.helpers import ACTOR, PURPOSE, bearer, entries, grant, onboard, resident, sandbox_people, unique

UNKNOWN_ID = "999999999999"  # well formed, held by nobody
VARIABLE_HEADERS = {"date", "content-length"}


@contextmanager
def lean(app: FastAPI, on: bool) -> Iterator[None]:
    assert isinstance(app, FastLaneApp)
    app.lean = on
    try:
        yield
    finally:
        app.lean = True


def _answer(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in VARIABLE_HEADERS}
    try:
        body = response.json()
    except ValueError:
        return response.status_code, headers, response.content
    if isinstance(body, dict):
        body.pop("log_seq", None)  # the only difference: each answer has its own place in the log
    return response.status_code, headers, body


def _cases(token: str, narrow_token: str, pid: str) -> list[tuple[str, dict[str, str], bytes]]:
    def body(**fields: Any) -> bytes:
        return orjson.dumps({"personal_id": pid, "purpose": PURPOSE, **fields})

    ok = bearer(token, **{"Content-Type": "application/json"})
    return [
        ("match", ok, body(full_name="Trần Thị Hoa", date_of_birth="1991-04-02", sex="2")),
        ("no match", ok, body(full_name="Trần Thị Hoà", date_of_birth="1991", sex="1")),
        ("unknown id", ok, orjson.dumps({"personal_id": UNKNOWN_ID, "purpose": PURPOSE, "sex": "1"})),
        ("end user", {**ok, "X-Road-UserId": "VN12345"}, body(sex="2")),
        ("invalid id", ok, orjson.dumps({"personal_id": "12ab", "purpose": PURPOSE, "sex": "1"})),
        ("no purpose", ok, orjson.dumps({"personal_id": pid, "sex": "1"})),
        ("blank purpose", ok, body(purpose=" ", sex="1")),
        ("bad dob", ok, body(date_of_birth="1991-13")),
        ("extra field", ok, body(phone="0912345678")),
        ("not json", ok, b"{personal_id"),
        ("json array", ok, b"[]"),
        ("text body", {**ok, "Content-Type": "text/plain"}, body(sex="2")),
        ("no token", {"Content-Type": "application/json"}, body(sex="2")),
        ("bad token", bearer("not-a-token", **{"Content-Type": "application/json"}), body(sex="2")),
        ("field not allowed", bearer(narrow_token, **{"Content-Type": "application/json"}), body(sex="2")),
    ]


def test_lean_path_answers_exactly_as_the_route(xhttp: httpx.Client, exchange_app: FastAPI) -> None:
    system = onboard(xhttp, grant())
    narrow = onboard(xhttp, grant(fields=["full_name"]))
    token, narrow_token = system.token(xhttp), narrow.token(xhttp)
    pid = resident(xhttp, full_name="Trần Thị Hoa", date_of_birth="1991-04-02", sex="2")["personal_id"]
    for name, headers, content in _cases(token, narrow_token, pid):
        answers = []
        for on in (True, False):
            with lean(exchange_app, on):  # the same X-Road-Id: the same correlation id and request hash
                response = xhttp.post("/exchange/v1/verify", content=content,
                                      headers={**headers, "X-Road-Id": f"lean-{name}"})
            answers.append(_answer(response))
        assert answers[0] == answers[1], name


def test_lean_path_serves_the_ordinary_request(xhttp: httpx.Client, exchange_app: FastAPI,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With the route's service made to fail, an ordinary verify still succeeds: the lean path answered it,
    logged it, and said so in the same shape."""
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    pid = resident(xhttp, full_name="Phạm Văn Đức", sex="1")["personal_id"]

    async def broken(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the declared route was used")

    monkeypatch.setattr(service, "verify", broken)
    correlation = unique("lean-ordinary-")
    claim = {"personal_id": pid, "purpose": PURPOSE, "full_name": "phạm văn đức"}
    response = xhttp.post("/exchange/v1/verify", json=claim, headers=bearer(token, **{"X-Road-Id": correlation}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["match"] is True and body["correlation_id"] == correlation
    assert response.headers["X-Road-Id"] == correlation and response.headers["X-Road-Request-Hash"]
    logged = entries(exchange_app.state.database, correlation=correlation)
    assert [(e["seq"], e["result"], e["personal_ids"]) for e in logged] == [(body["log_seq"], "ok", [pid])]


def test_standing_is_read_on_every_request(xhttp: httpx.Client, exchange_app: FastAPI) -> None:
    """The token's signature and claims are cached; suspension, resumption, key revocation and termination
    still decide the very next request."""
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    pid = resident(xhttp, sex="1")["personal_id"]

    def ask() -> httpx.Response:
        return xhttp.post("/exchange/v1/verify", json={"personal_id": pid, "purpose": PURPOSE, "sex": "1"},
                          headers=bearer(token))

    assert ask().status_code == 200 and ask().status_code == 200  # the second one from the token cache
    path = f"/agencies/systems/{system.identifier}"
    assert xhttp.post(f"{path}/suspend", json={"reason": "kiểm tra"}, headers=ACTOR).status_code == 200
    assert_problem(ask(), 403, "system_suspended")
    assert xhttp.post(f"{path}/resume", json={}, headers=ACTOR).status_code == 200
    assert ask().status_code == 200
    assert xhttp.delete(f"{path}/credentials/{system.key.kid}", headers=ACTOR).status_code == 204
    assert_problem(ask(), 401, "credential_revoked")
    assert xhttp.post(f"{path}/terminate", json={"reason": "hết hợp đồng"}, headers=ACTOR).status_code == 200
    refused = ask()
    assert refused.status_code in (401, 403) and refused.json()["code"] in ("credential_revoked", "system_terminated")
    codes = [e["error_code"] for e in entries(exchange_app.state.database, client=system.identifier)]
    assert "system_suspended" in codes and "credential_revoked" in codes


def test_quota_refusal_is_answered_and_logged_once(xhttp: httpx.Client, exchange_app: FastAPI) -> None:
    """The lean path hands a refusal to the route before doing anything: one answer, one log entry."""
    system = onboard(xhttp, grant(daily_quota=2))
    token = system.token(xhttp)
    pid = resident(xhttp, sex="1")["personal_id"]
    answers = [xhttp.post("/exchange/v1/verify", json={"personal_id": pid, "purpose": PURPOSE, "sex": "1"},
                          headers=bearer(token)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "quota_exceeded" and answers[2].headers["Retry-After"]
    logged = [e for e in entries(exchange_app.state.database, client=system.identifier) if e["personal_ids"] == [pid]]
    assert [(e["result"], e["error_code"]) for e in logged] == [("ok", None), ("ok", None),
                                                                 ("denied", "quota_exceeded")]


def test_an_unexpected_error_is_the_same_500_problem_on_both_paths(
        xhttp: httpx.Client, exchange_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    pid = resident(xhttp, sex="1")["personal_id"]

    async def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "answer_verify", broken)
    answers = []
    for on in (True, False):
        with lean(exchange_app, on):
            response = xhttp.post("/exchange/v1/verify", json={"personal_id": pid, "purpose": PURPOSE, "sex": "1"},
                                  headers=bearer(token))
        assert_problem(response, 500, "internal_error")
        answers.append(_answer(response))
    assert answers[0] == answers[1]


def test_test_calls_and_calls_due_through_a_platform_are_the_routes(
        xhttp: httpx.Client, exchange_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean path serves production calls of directly connected systems only: a test key's verify (sandbox
    rule, test policy) and a direct call of a system behind a platform go to the declared route."""
    system = onboard(xhttp, grant())
    platform = onboard(xhttp, grant(), org_type="province", kind="integration_platform",
                       security=approved_security())
    behind = onboard(xhttp, grant(), via=platform)
    routed: list[str] = []
    original = service.verify

    async def spy(rt: Any, call: Any, body: Any) -> bytes:
        routed.append(call.correlation_id)
        return await original(rt, call, body)

    monkeypatch.setattr(service, "verify", spy)
    test_token = system.test_token(xhttp)
    [synthetic] = sandbox_people(xhttp, test_token, 1)
    claim = {"personal_id": synthetic["personal_id"], "purpose": PURPOSE, "full_name": synthetic["full_name"]}
    tested = xhttp.post("/exchange/v1/verify", json=claim, headers=bearer(test_token, **{"X-Road-Id": "lean-t"}))
    assert tested.status_code == 200 and tested.json()["match"] is True  # the lean path would not have found it
    real = resident(xhttp, sex="1")["personal_id"]
    refused = xhttp.post("/exchange/v1/verify", json={"personal_id": real, "purpose": PURPOSE, "sex": "1"},
                         headers=bearer(test_token, **{"X-Road-Id": "lean-r"}))
    assert_problem(refused, 403, "test_credentials_sandbox_only")
    direct = xhttp.post("/exchange/v1/verify", json={"personal_id": real, "purpose": PURPOSE, "sex": "1"},
                        headers=bearer(behind.token(xhttp), **{"X-Road-Id": "lean-d"}))
    assert_problem(direct, 403, "direct_call_not_allowed")
    assert routed == ["lean-t", "lean-r"]  # (the direct call is refused while authenticating, before the service)
    production = xhttp.post("/exchange/v1/verify", json={"personal_id": real, "purpose": PURPOSE, "sex": "1"},
                            headers=bearer(system.token(xhttp), **{"X-Road-Id": "lean-p"}))
    assert production.status_code == 200 and routed == ["lean-t", "lean-r"]  # the ordinary case: the lean path


def test_a_sandbox_resident_is_not_found_by_production_on_both_paths(xhttp: httpx.Client,
                                                                     exchange_app: FastAPI) -> None:
    system = onboard(xhttp, grant())
    [synthetic] = sandbox_people(xhttp, system.test_token(xhttp), 1)
    token = system.token(xhttp)
    answers = []
    for on in (True, False):
        with lean(exchange_app, on):
            answers.append(_answer(xhttp.post("/exchange/v1/verify", json={
                "personal_id": synthetic["personal_id"], "purpose": PURPOSE, "full_name": synthetic["full_name"]},
                headers=bearer(token, **{"X-Road-Id": "lean-sandbox"}))))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200 and answers[0][2]["code"] == "resident_not_found"
