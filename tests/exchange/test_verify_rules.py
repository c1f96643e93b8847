"""Verification is exact: Vietnamese-aware normalisation, never a fuzzy yes; precise result codes."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
import pytest

from dancu.exchange.domain import Claim, compare_dob, verify
from tests.agencies.factories import ACTOR, assert_problem
from tests.exchange.helpers import PURPOSE, bearer, grant, onboard, resident, unique

STORED = "Đặng Thị Hòa"
SAME = ["Đặng Thị Hòa", "đặng thị hoà", "ĐẶNG THỊ HOÀ", "  Đặng   Thị  Hòa ", "\u00d0ặng Thị Hòa",
        unicodedata.normalize("NFD", "Đặng Thị Hoà")]
DIFFERENT = ["Đặng Thị Hóa", "Đặng Hòa", "Dặng Thị Hòa", "Đặng Thị Hoa", "Đặng Thị Hòa Bình"]


@pytest.fixture(scope="module")
def caller(exchange_server: str) -> dict[str, Any]:
    with httpx.Client(base_url=exchange_server) as http:
        system = onboard(http, grant())
        suffix = unique()[:4].capitalize()
        person = resident(http, full_name=f"{STORED} {suffix}", date_of_birth="1988-07-09", sex="2",
                          permanent_province="01", permanent_commune="00004", permanent_address="12 phố Huế")
        return {"token": system.token(http), "person": person, "suffix": suffix}


def _verify(http: httpx.Client, caller: dict[str, Any], **claim: Any) -> httpx.Response:
    body = {"personal_id": caller["person"]["personal_id"], "purpose": PURPOSE, **claim}
    return http.post("/exchange/v1/verify", json=body, headers=bearer(caller["token"]))


@pytest.mark.parametrize("name", SAME)
def test_normalised_names_match(xhttp: httpx.Client, caller: dict[str, Any], name: str) -> None:
    response = _verify(xhttp, caller, full_name=f"{name} {caller['suffix']}")
    assert response.status_code == 200, response.text
    assert response.json()["match"] is True and response.json()["fields"]["full_name"] == "match"


@pytest.mark.parametrize("name", DIFFERENT)
def test_no_fuzzy_yes(xhttp: httpx.Client, caller: dict[str, Any], name: str) -> None:
    response = _verify(xhttp, caller, full_name=f"{name} {caller['suffix']}")
    assert response.json()["match"] is False and response.json()["fields"]["full_name"] == "no_match"


def test_per_field_results_and_nothing_else(xhttp: httpx.Client, caller: dict[str, Any]) -> None:
    body = _verify(xhttp, caller, sex="1", date_of_birth="1988-07-09",
                   address={"province": "01", "text": "12 PHỐ HUẾ"}).json()
    assert body["match"] is False and body["code"] == "ok"
    assert body["fields"] == {"full_name": "not_provided", "date_of_birth": "match", "sex": "no_match",
                              "address": "match"}
    assert set(body) == {"match", "code", "fields", "date_of_birth_precision", "correlation_id", "log_seq"}


def test_unknown_dead_and_missing(xhttp: httpx.Client, caller: dict[str, Any]) -> None:
    unknown = xhttp.post("/exchange/v1/verify", json={"personal_id": "001099000001", "purpose": PURPOSE,
                                                      "full_name": "A"}, headers=bearer(caller["token"]))
    assert unknown.status_code == 200
    assert unknown.json() | {"correlation_id": "", "log_seq": 0} == {
        "match": False, "code": "resident_not_found", "correlation_id": "", "log_seq": 0,
        "fields": {"full_name": "no_match", "date_of_birth": "not_provided", "sex": "not_provided",
                   "address": "not_provided"}}
    for kind in ("dead", "missing"):
        person = resident(xhttp, full_name="Phạm Văn Tư")
        died = xhttp.post(f"/registry/residents/{person['personal_id']}/death",
                          json={"date": "2024-01-02", "kind": kind}, headers=ACTOR)
        assert died.status_code == 200, died.text
        body = xhttp.post("/exchange/v1/verify", json={"personal_id": person["personal_id"], "purpose": PURPOSE,
                                                       "full_name": "Phạm Văn Tư"},
                          headers=bearer(caller["token"])).json()
        assert body["match"] is False
        assert body["code"] == {"dead": "resident_deceased", "missing": "resident_missing"}[kind]


def test_malformed_input_and_purpose(xhttp: httpx.Client, caller: dict[str, Any]) -> None:
    token = bearer(caller["token"])
    assert_problem(xhttp.post("/exchange/v1/verify", json={"personal_id": "12", "purpose": PURPOSE},
                              headers=token), 422, "validation_failed")
    assert_problem(xhttp.post("/exchange/v1/verify", json={"personal_id": caller["person"]["personal_id"],
                                                           "full_name": "x"}, headers=token), 400, "purpose_required")
    assert_problem(_verify(xhttp, caller, date_of_birth="1988-02-30"), 422, "validation_failed")
    denied = xhttp.post(
        "/exchange/v1/verify", json={"personal_id": caller["person"]["personal_id"], "purpose": "marketing",
                                     "full_name": "x"}, headers=token)
    assert assert_problem(denied, 403, "policy_denied")["denials"] == [{"rule": "purpose_not_allowed",
                                                                        "value": "marketing"}]


def test_date_precision_is_the_coarser_and_reported() -> None:
    assert compare_dob("1950-03-07", "1950") == ("match", "year")
    assert compare_dob("1951-03-07", "1950") == ("no_match", "year")
    assert compare_dob("1950", "1950-03-07") == ("match", "year")
    assert compare_dob("1950-03", "1950-03-07") == ("match", "month")
    assert compare_dob("1950-03-08", "1950-03-07") == ("no_match", "day")
    verdict = verify(Claim("001050000001", date_of_birth="1950-03-07"), {"date_of_birth": "1950"})
    assert verdict.match is True and verdict.dob_precision == "year"


def test_nothing_provided_is_no_match() -> None:
    verdict = verify(Claim("001050000001"), {"full_name": "A"})
    assert verdict.match is False and set(verdict.fields.values()) == {"not_provided"}
