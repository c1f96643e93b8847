from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.operators.accounts import auth
from tests.registry.factories import resident_payload, token, unique_number


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    """Here every request is a registrar's unless it says otherwise (operator token, tests/operators)."""
    with httpx.Client(base_url=live_server, timeout=30, headers=auth("officer-17")) as client:
        yield client

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    assert {"title", "detail", "title_en", "detail_en", "type", "status"} <= set(body)
    return body


def create(http: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = http.post(
        "/registry/residents", json=resident_payload(**overrides), headers=auth("officer-17")
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_create_and_read(http: httpx.Client) -> None:
    record = create(http)
    pid = record["resident"]["fields"]["personal_id"]
    assert record["history"][0]["actor"] == "officer-17"
    read = http.get(f"/registry/residents/{pid}")
    assert read.status_code == 200
    assert read.json()["resident"]["fields"]["full_name"] == record["resident"]["fields"]["full_name"]
    history = http.get(f"/registry/residents/{pid}/history").json()
    assert [c["kind"] for c in history] == ["created"]


def test_import_taken_number_is_a_conflict(http: httpx.Client) -> None:
    number = unique_number()
    create(http, personal_id=number)
    assert_problem(
        http.post("/registry/residents", json=resident_payload(personal_id=number)), 409, "personal_id_taken"
    )


def test_unknown_and_malformed_ids(http: httpx.Client) -> None:
    assert_problem(http.get("/registry/residents/001099999999"), 404, "resident_not_found")
    assert_problem(http.get("/registry/residents/12ab"), 422, "invalid_id_number")
    assert_problem(http.get("/registry/residents/001099999999/history"), 404, "resident_not_found")


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"full_name": 5}', b"null"])
def test_malformed_bodies_are_422(http: httpx.Client, body: bytes) -> None:
    response = http.post("/registry/residents", content=body, headers={"content-type": "application/json"})
    assert_problem(response, 422, "validation_failed")


def test_wrong_types_and_codes_list_all_errors(http: httpx.Client) -> None:
    response = http.post(
        "/registry/residents", json=resident_payload(household_id="abc", id_cards=[{}], shoe=1)
    )
    fields = {e["field"] for e in assert_problem(response, 422, "validation_failed")["errors"]}
    assert {"household_id", "shoe"} <= fields and any(f.startswith("id_cards") for f in fields)
    response = http.post(
        "/registry/residents", json=resident_payload(sex="9", religion_code="77", date_of_birth="1985-02-31")
    )
    fields = {e["field"] for e in assert_problem(response, 422, "validation_failed")["errors"]}
    assert {"sex", "religion_code", "date_of_birth"} <= fields


def test_rejected_request_changes_nothing(http: httpx.Client) -> None:
    name = f"Vũ Thị {token()}"
    assert_problem(
        http.post("/registry/residents", json=resident_payload(full_name=name, ethnic_code="99")),
        422,
        "validation_failed",
    )
    found = http.get("/registry/residents", params={"name": name}).json()["items"]
    assert name not in {item["full_name"] for item in found}  # similar names of others may be listed
    record = create(http)
    pid = record["resident"]["fields"]["personal_id"]
    bad = {"changes": {"blood_type": "Z"}, "expected_version": 1, "reason": "x"}
    assert_problem(http.post(f"/registry/residents/{pid}/corrections", json=bad), 422, "validation_failed")
    after = http.get(f"/registry/residents/{pid}").json()
    assert after["resident"]["version"] == 1 and after["resident"]["fields"]["blood_type"] == "O+"


def test_correction_history_and_stale_version(http: httpx.Client) -> None:
    pid = create(http)["resident"]["fields"]["personal_id"]
    body = {"changes": {"other_name": "Bé Na"}, "expected_version": 1, "reason": "đơn đề nghị"}
    response = http.post(
        f"/registry/residents/{pid}/corrections", json=body, headers=auth("cb-02")
    )
    assert response.status_code == 200, response.text
    assert response.json()["history"][-1]["changes"] == {"other_name": [None, "Bé Na"]}
    body = assert_problem(
        http.post(f"/registry/residents/{pid}/corrections", json=body), 409, "stale_version"
    )
    assert body["current_version"] == 2
    created_at = response.json()["history"][0]["recorded_at"]
    past = http.get(f"/registry/residents/{pid}", params={"as_of": created_at}).json()
    assert past["resident"]["fields"]["other_name"] is None
    assert_problem(
        http.get(f"/registry/residents/{pid}", params={"as_of": "2001-01-01T00:00:00Z"}),
        404,
        "resident_not_found_at_time",
    )
    assert_problem(
        http.get(f"/registry/residents/{pid}", params={"as_of": "yesterday"}), 422, "validation_failed"
    )


def test_death_and_move(http: httpx.Client) -> None:
    pid = create(http)["resident"]["fields"]["personal_id"]
    moved = http.post(
        f"/registry/residents/{pid}/moves",
        json={"temporary": {"province": "48", "address": "3 Bạch Đằng"}, "reason": "đi làm"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["resident"]["fields"]["temporary_province"] == "48"
    assert_problem(
        http.post(f"/registry/residents/{pid}/moves", json={"temporary": {"province": 48.5}}),
        422,
        "validation_failed",
    )
    death = http.post(f"/registry/residents/{pid}/death", json={"date": "2025-01", "kind": "missing"})
    assert death.status_code == 200, death.text
    assert_problem(
        http.post(f"/registry/residents/{pid}/moves", json={"current": {"province": "79"}}),
        409,
        "resident_deceased",
    )
    assert_problem(
        http.post(f"/registry/residents/{pid}/death", json={"date": "2025-02-30"}), 422, "validation_failed"
    )


def test_search(http: httpx.Client) -> None:
    surname = token()
    pid = create(
        http,
        full_name=f"Đỗ Thị {surname}",
        date_of_birth="1999-12-31",
        sex="2",
        birth_registration_province="79",
    )["resident"]["fields"]["personal_id"]
    found = http.get("/registry/residents", params={"name": f"do thi {surname.lower()}", "dob": "1999-12"})
    assert found.status_code == 200
    assert [h["personal_id"] for h in found.json()["items"]] == [pid]
    assert_problem(http.get("/registry/residents"), 422, "search_too_broad")
    assert_problem(http.get("/registry/residents", params={"province": "01"}), 422, "search_too_broad")
    assert_problem(
        http.get("/registry/residents", params={"name": surname, "limit": 1000}), 422, "validation_failed"
    )
    assert_problem(http.get("/registry/residents", params={"dob": "31/12/1999"}), 422, "validation_failed")


def test_openapi_documents_the_registry(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    assert {
        "/registry/residents",
        "/registry/residents/{personal_id}",
        "/registry/residents/{personal_id}/history",
        "/registry/residents/{personal_id}/corrections",
        "/registry/residents/{personal_id}/death",
        "/registry/residents/{personal_id}/moves",
    } <= set(document["paths"])
    fields = document["components"]["schemas"]["ResidentCreate"]["properties"]
    assert "Họ, chữ đệm và tên khai sinh" in fields["full_name"]["description"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"full_name": "An\x00"},
        {"household_id": 10**20},
        {"relatives": [{"kind": "father", "full_name": "\x00"}]},
        {"sector_ids": {"bhyt": 5}},
        {"date_of_birth": "9999-99-99"},
        {"phone": "x" * 31},
    ],
)
def test_hostile_bodies_are_4xx(http: httpx.Client, overrides: dict[str, Any]) -> None:
    response = http.post("/registry/residents", json=resident_payload(**overrides))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


def test_hostile_queries_are_4xx(http: httpx.Client) -> None:
    pid = create(http)["resident"]["fields"]["personal_id"]
    for params in (
        {"name": "ngu\x00yen"},
        {"as_of": "9999-12-31T23:59:59-12:00"},
        {"as_of": "0001-01-01T00:00"},
    ):
        path = "/registry/residents" if "name" in params else f"/registry/residents/{pid}"
        response = http.get(path, params=params)
        assert response.status_code < 500, (params, response.text)
    version = {"changes": {"blood_type": "A+"}, "expected_version": 10**30, "reason": "x"}
    assert_problem(
        http.post(f"/registry/residents/{pid}/corrections", json=version), 422, "validation_failed"
    )
