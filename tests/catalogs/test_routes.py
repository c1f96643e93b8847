"""The catalogue endpoints over HTTP."""

from __future__ import annotations

import httpx
import pytest

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "title_en", "detail_en"}


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) >= PROBLEM_KEYS and body["code"] == code


def test_list(http: httpx.Client) -> None:
    response = http.get("/catalogs")
    assert response.status_code == 200
    catalogs = {c["name"]: c for c in response.json()}
    assert catalogs["province"]["entry_count"] == 34
    assert catalogs["province_63"]["entry_count"] == 63
    assert {"version", "loaded_at", "source"} <= set(catalogs["sex"])


def test_catalog_as_of(http: httpx.Client) -> None:
    now = http.get("/catalogs/province").json()
    assert len(now["entries"]) == 34 and now["name"] == "province"
    entry = next(e for e in now["entries"] if e["code"] == "79")
    assert entry["attrs"]["kind"] == "thành phố trực thuộc trung ương" and entry["valid_from"] == "2025-07-01"
    assert http.get("/catalogs/province", params={"as_of": "2020-01-01"}).json()["entries"] == []
    old = http.get("/catalogs/province_63", params={"as_of": "2020-01-01"}).json()
    assert len(old["entries"]) == 63 and old["as_of"] == "2020-01-01"
    assert http.get("/catalogs/province_63", params={"as_of": "2025-07-01"}).json()["entries"] == []


def test_one_entry(http: httpx.Client) -> None:
    entry = http.get("/catalogs/province_63/01").json()
    assert entry["valid_to"] == "2025-07-01" and entry["attrs"]["id_code"] == "001"
    assert http.get("/catalogs/sex/2").json()["name_en"] == "Female"
    assert_problem(http.get("/catalogs/province_63/01", params={"as_of": "2026-01-01"}), 404, "catalog_code_not_found")


@pytest.mark.parametrize(
    "path, code",
    [
        ("/catalogs/no_such", "catalog_not_found"),
        ("/catalogs/no_such/01", "catalog_not_found"),
        ("/catalogs/province/99", "catalog_code_not_found"),
        ("/catalogs/mappings/no_such", "catalog_mapping_not_found"),
    ],
)
def test_not_found_is_a_problem(http: httpx.Client, path: str, code: str) -> None:
    response = http.get(path)
    assert_problem(response, 404, code)
    assert response.json()["title_en"] and response.json()["detail_en"]


@pytest.mark.parametrize("as_of", ["2025-13-01", "yesterday", "0", "2025-02-30", "20250101", ""])
def test_bad_date_is_422(http: httpx.Client, as_of: str) -> None:
    assert_problem(http.get("/catalogs/province", params={"as_of": as_of}), 422, "validation_failed")


def test_mappings(http: httpx.Client) -> None:
    listed = {m["name"]: m for m in http.get("/catalogs/mappings").json()}
    assert listed["province_63->province"]["pair_count"] == 63
    body = http.get("/catalogs/mappings/province_63->province").json()
    assert len(body["pairs"]) == 63
    assert {"from_code": "74", "to_code": "79", "note": "hợp nhất"} in body["pairs"]
    ethnic = http.get("/catalogs/mappings/ethnic_group_1979->ethnic_group").json()
    assert len(ethnic["pairs"]) == 54
    assert listed["commune_63->commune"]["pair_count"] == 10_597
    communes = http.get("/catalogs/mappings/commune_63->commune").json()["pairs"]
    assert {"from_code": "00001", "to_code": "00097", "note": "whole"} in communes
    assert [p["note"] for p in communes if p["from_code"] == "00019"].count("part_main") == 1


def test_old_communes(http: httpx.Client) -> None:
    assert http.get("/catalogs/commune_63").json()["entries"] == []  # none in force today
    before = http.get("/catalogs/commune_63", params={"as_of": "2025-06-30"}).json()
    assert len(before["entries"]) == 10_035
    entry = http.get("/catalogs/commune_63/00001").json()
    assert (entry["name_vi"], entry["parent_code"], entry["valid_to"]) == ("Phường Phúc Xá", "01", "2025-07-01")
    assert entry["attrs"]["became"] == ["Phường Hồng Hà"] and entry["attrs"]["district"] == "Quận Ba Đình"
