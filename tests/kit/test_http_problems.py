"""The framework's own errors in the documented problem form: a body that is not UTF-8, not JSON or not a
well-formed form is ``422 validation_failed`` (field ``body``) — never an undocumented ``400 http_400`` —
and an unknown path or a wrong method carries a Vietnamese title too.  Over real HTTP, on an exchange route
(with a valid token, and its X-Road headers), an operator route and a citizen form."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.agencies.factories import ACTOR, PROBLEM
from tests.exchange.helpers import PURPOSE, bearer, grant, onboard

NOT_UTF8 = b'{"personal_id": "001099000002", "purpose": "' + PURPOSE.encode() + b'", "full_name": "\xff\xfe"}'


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["title"] and body["title_en"] and body["title"] != body["title_en"], body  # both languages
    assert body["detail"] and body["detail_en"], body
    return body


@pytest.fixture(scope="module")
def token(live_server: str) -> str:
    with httpx.Client(base_url=live_server, timeout=30) as client:
        return onboard(client, grant()).token(client)


@pytest.mark.parametrize("path", ["/exchange/v1/verify", "/exchange/v1/retrieve", "/exchange/v1/verify/batch",
                                  "/exchange/v1/enrichment"])
def test_an_exchange_body_that_is_not_utf8_is_a_validation_error(http: httpx.Client, token: str, path: str) -> None:
    response = http.post(path, content=NOT_UTF8, headers=bearer(token, **{"content-type": "application/json"}))
    body = problem(response, 422, "validation_failed")
    assert body["title"] == "Dữ liệu không hợp lệ" and body["title_en"] == "Validation failed"
    assert body["errors"] == [{"field": "body", "code": "body_not_utf8",
                               "message_vi": "Nội dung yêu cầu không phải văn bản UTF-8 hợp lệ.",
                               "message_en": "The request body is not valid UTF-8."}]
    assert response.headers["X-Road-Error"] == "validation_failed" and "X-Road-Request-Hash" in response.headers


def test_an_exchange_body_that_is_not_json_names_the_body(http: httpx.Client, token: str) -> None:
    response = http.post("/exchange/v1/verify", content=b'{"personal_id": ', headers=bearer(
        token, **{"content-type": "application/json"}))
    [error] = problem(response, 422, "validation_failed")["errors"]
    assert error["field"] == "body" and error["code"] == "json_invalid"
    assert "JSON" in error["message_vi"] and "JSON" in error["message_en"]


def test_operator_and_citizen_bodies_that_do_not_decode(http: httpx.Client) -> None:
    registry = http.post("/registry/residents", content=b'{"full_name": "\xc3"}',
                         headers={**ACTOR, "content-type": "application/json"})
    assert problem(registry, 422, "validation_failed")["errors"][0]["code"] == "body_not_utf8"
    form = http.post("/citizen/portal/login", content=b"--x\r\nbroken", headers={
        "content-type": "multipart/form-data"})  # no boundary: the form cannot be parsed
    assert problem(form, 422, "validation_failed")["errors"][0]["code"] == "body_malformed"


def test_plain_http_errors_are_titled_in_vietnamese(http: httpx.Client) -> None:
    missing = problem(http.get("/no/such/path"), 404, "not_found")
    assert missing["title"] == "Không tìm thấy" and missing["title_en"] == "Not found"
    wrong = http.get("/exchange/v1/verify")
    body = problem(wrong, 405, "method_not_allowed")
    assert body["title"] == "Phương thức không được hỗ trợ" and body["title_en"] == "Method not allowed"
    assert wrong.headers["allow"] == "POST"


def test_the_exchange_documents_its_400s_and_413s(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        if not path.startswith(("/exchange/", "/r1/")):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "xroad_client_invalid" in responses["400"]["description"], (method, path)
            assert responses["400"]["content"][PROBLEM], (method, path)
            if method == "post":
                assert "purpose_required" in responses["400"]["description"], path
                assert "payload_too_large" in responses["413"]["description"], path
            names = {p["name"] for p in operation.get("parameters", [])}
            assert {"X-Road-Client", "X-Road-Id", "X-Road-UserId"} <= names, (method, path)
