"""Operator reads over real HTTP write their exchange-log entry before the answer leaves: one entry per read,
named by the answer's X-Dancu-Log-Seq, hashing the very bytes received; with the log down, a 503 and nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from dancu.db import Database
from tests.ledger.reads import assert_refused_unlogged
from tests.operators.accounts import auth
from tests.registry.factories import resident_payload, token

READER = "role-registry_reader"
PATHS = ("/registry/residents/{pid}", "/registry/residents/{pid}/history")


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30, headers=auth(READER)) as client:
        yield client


def create(http: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = http.post("/registry/residents", json=resident_payload(**overrides), headers=auth("officer-17"))
    assert response.status_code == 201, response.text
    return dict(response.json()["resident"]["fields"])


def entries(database: Database, personal_id: str) -> list[Any]:
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT * FROM ledger_entry WHERE personal_ids @> ARRAY[CAST(:p AS text)] "
                                      "AND client_system LIKE 'operator:%' ORDER BY seq"), {"p": personal_id}))


def logged(database: Database, response: httpx.Response) -> Any:
    """The entry the answer names, checked against the bytes received."""
    assert response.status_code == 200, response.text
    seq = int(response.headers["x-dancu-log-seq"])
    with database.engine.connect() as conn:
        entry = conn.execute(text("SELECT * FROM ledger_entry WHERE seq = :s"), {"s": seq}).one()
    assert bytes(entry.response_hash) == hashlib.sha256(response.content).digest()
    assert (entry.kind, entry.client_system, entry.end_user, entry.result) == ("exchange", "operator:api", READER, "ok")
    return entry


def test_a_record_read_is_logged_once_with_its_fields(http: httpx.Client, database: Database) -> None:
    person = create(http)
    pid = person["personal_id"]
    response = http.get(f"/registry/residents/{pid}", params={"purpose": "giải quyết hồ sơ cấp căn cước"})
    entry = logged(database, response)
    assert response.json()["resident"]["fields"]["full_name"] == person["full_name"]
    assert (entry.service, entry.purpose, entry.legal_basis) == (
        "registry.read", "giải quyết hồ sơ cấp căn cước", "Luật Căn cước 2023")
    assert entry.personal_ids == [pid] and entry.fields_disclosed[-1] == "history"
    assert {"full_name", "date_of_birth", "phone", "email"} <= set(entry.fields_disclosed)
    assert "other_name" not in entry.fields_disclosed
    assert [e.seq for e in entries(database, pid)] == [entry.seq]


def test_a_past_record_and_the_history_are_logged_once_each(http: httpx.Client, database: Database) -> None:
    person = create(http)
    pid = person["personal_id"]
    created_at = http.get(f"/registry/residents/{pid}/history").json()[0]["recorded_at"]
    past = http.get(f"/registry/residents/{pid}", params={"as_of": created_at})
    history = http.get(f"/registry/residents/{pid}/history")
    first, second, third = (e.seq for e in entries(database, pid))
    past_entry, history_entry = logged(database, past), logged(database, history)
    assert (past_entry.seq, history_entry.seq) == (second, third) and first < second
    assert past_entry.service == "registry.read" and past_entry.purpose == "quản lý dân cư"
    assert (history_entry.service, history_entry.fields_disclosed) == ("registry.history", ["history"])


def test_a_search_is_logged_with_every_id_shown(http: httpx.Client, database: Database) -> None:
    surname = token(8)
    pids = {create(http, full_name=f"{surname} Thị {token()}")["personal_id"] for _ in range(2)}
    response = http.get("/registry/residents", params={"name": surname, "purpose": "rà soát trùng lặp"})
    entry = logged(database, response)
    shown = [hit["personal_id"] for hit in response.json()["items"]]
    assert set(shown) == pids and entry.personal_ids == shown
    assert (entry.service, entry.purpose) == ("registry.search", "rà soát trùng lặp")
    assert entry.fields_disclosed == ["personal_id", "full_name", "date_of_birth", "sex", "permanent_province",
                                      "permanent_commune"]
    for pid in pids:
        assert [e.seq for e in entries(database, pid)] == [entry.seq]


def test_nothing_found_leaves_no_entry(http: httpx.Client, database: Database) -> None:
    with database.engine.connect() as conn:
        before = conn.execute(text("SELECT max(seq) FROM ledger_entry")).scalar()
    empty = http.get("/registry/residents", params={"name": token(10)})
    assert empty.status_code == 200 and empty.json()["items"] == [] and "x-dancu-log-seq" not in empty.headers
    assert http.get("/registry/residents/001099999999").status_code == 404
    with database.engine.connect() as conn:
        added = conn.execute(text("SELECT count(*) FROM ledger_entry WHERE seq > :s AND client_system LIKE "
                                  "'operator:%'"), {"s": -1 if before is None else before}).scalar()
    assert added == 0


def test_purpose_is_checked_at_the_door(http: httpx.Client) -> None:
    response = http.get("/registry/residents", params={"name": "nguyen", "purpose": "x" * 201})
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"


def test_with_the_log_down_every_read_is_refused_and_discloses_nothing(
        http: httpx.Client, database: Database, broken_ledger: None) -> None:
    person = create(http, full_name=f"Hà Văn {token()}")
    pid = person["personal_id"]
    refused = [http.get(path.format(pid=pid)) for path in PATHS]
    refused.append(http.get("/registry/residents", params={"name": person["full_name"]}))
    for response in refused:
        assert_refused_unlogged(response, person["full_name"], person["phone"], person["email"],
                                person["date_of_birth"])
    assert pid not in refused[-1].text
    assert entries(database, pid) == []
