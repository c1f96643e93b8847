"""Enrichment push over real HTTP: an approved sector system pushes records for its own source; they are linked
to residents by the sync pipeline, the push is logged, the same batch twice applies nothing twice, and every
refusal is precise and changes nothing."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from fastapi import FastAPI

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange.ledger_port import LedgerPort, unavailable
from dancu.ledger.domain import LedgerEntry, Receipt
from dancu.ledger.loop_writer import LoopWriter
from dancu.sync.push import spool
from tests.agencies.factories import ACTOR, assert_problem
from tests.exchange.helpers import System, bearer, entries, grant, onboard, resident
from tests.registry.factories import unique_number

PUSH = "/exchange/v1/enrichment"
PURPOSE = "dong_bo_the_bhyt"  # synchronising health-insurance cards
KEY = "health_insurance_number"


def pusher(http: httpx.Client, sources: list[str] | None = None, **policy: Any) -> System:
    return onboard(http, grant(services=["enrichment_push"], purposes=[PURPOSE],
                               sources=["bhyt"] if sources is None else sources, **policy),
                   org_type="sector_database_owner")


def card() -> str:
    return "GD4" + f"{random.randrange(10**12):012d}"


def record(person: dict[str, Any], **overrides: str | None) -> dict[str, str | None]:
    """A health-insurance (bhyt) record of ``person`` in the source's own columns."""
    return {"so_dinh_danh": person["personal_id"], "ho_ten": person["full_name"],
            "ngay_sinh": person["date_of_birth"], "gioi_tinh": person["sex"], "ma_tinh": "01", "ma_the": card(),
            **overrides}


def push(http: httpx.Client, token: str, records: list[dict[str, Any]], *, source: str = "bhyt",
         correlation: str | None = None, **body: Any) -> httpx.Response:
    headers = bearer(token, **({"X-Road-Id": correlation} if correlation else {}))
    return http.post(PUSH, json={"source": source, "purpose": PURPOSE, "records": records, **body}, headers=headers)


def sector_ids(database: Database, personal_ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """personal ID → (value, source, job_id, line_no, linked_at) of its health-insurance number."""
    with psycopg.connect(libpq_url(database.url)) as conn:
        rows = conn.execute(
            "SELECT r.personal_id, s.value, s.source, s.job_id, s.line_no, s.linked_at FROM resident_sector_id s "
            "JOIN resident r USING (resident_id) WHERE r.personal_id = ANY(%s) AND s.sector_key = %s",
            (personal_ids, KEY)).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def scalar(database: Database, sql: str, *params: Any) -> Any:
    with psycopg.connect(libpq_url(database.url)) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def test_a_push_links_its_records_to_residents_and_is_logged(xhttp: httpx.Client, database: Database) -> None:
    system = pusher(xhttp)
    token = system.token(xhttp)
    a, b, c = resident(xhttp, sex="1"), resident(xhttp, sex="2"), resident(xhttp, sex="1")
    stranger = unique_number(year=1985, sex="1")
    records = [record(a), record(b), record(c, ma_the="12345"),
               {"so_dinh_danh": stranger, "ho_ten": "Lê Văn Khách", "ngay_sinh": "1985-04-12", "ma_the": card()}]
    correlation = f"push-{uuid.uuid4()}"
    response = push(xhttp, token, records, correlation=correlation)
    assert response.status_code == 200, response.text
    body = response.json()
    job_id = body["job_id"]
    assert body["state"] == "done" and body["replayed"] is False and body["source"] == "bhyt"
    assert body["records"] == body["processed"] == 4
    assert body["outcomes"] == {"linked": 2, "rejected": 1, "unmatched_id": 1}
    assert body["reasons"]["rejected:identifier_malformed"] == 1
    assert body["rejected"] == [{"index": 2, "reasons": ["identifier_malformed"]}]
    assert response.headers["Location"] == body["job_url"] == f"{PUSH}/{job_id}"
    assert response.headers["X-Road-Id"] == correlation

    linked = sector_ids(database, [a["personal_id"], b["personal_id"], c["personal_id"]])
    assert set(linked) == {a["personal_id"], b["personal_id"]}
    assert linked[a["personal_id"]][:4] == (records[0]["ma_the"], f"sync:bhyt:{job_id}", job_id, 1)
    assert linked[b["personal_id"]][:4] == (records[1]["ma_the"], f"sync:bhyt:{job_id}", job_id, 2)

    [entry] = entries(database, correlation=correlation)
    assert entry["seq"] == body["log_seq"]
    assert (entry["client_system"], entry["service"], entry["result"], entry["purpose"]) == (
        system.identifier, "enrichment_push", "ok", PURPOSE)
    assert entry["personal_ids"] == [a["personal_id"], b["personal_id"], c["personal_id"], stranger]
    assert entry["fields_disclosed"] == [f"sector_ids.{KEY}"]
    [chunk] = entries(database, correlation=f"sync:{job_id}:")
    assert chunk["service"] == "sync.apply" and chunk["client_system"] == "sync:bhyt"

    view = xhttp.get(f"{PUSH}/{job_id}", headers=bearer(token))
    assert view.status_code == 200, view.text
    assert {k: view.json()[k] for k in ("outcomes", "rejected", "records")} == {
        k: body[k] for k in ("outcomes", "rejected", "records")}
    assert "log_seq" not in view.json() and "replayed" not in view.json()  # push answers only
    other = pusher(xhttp)
    assert_problem(xhttp.get(f"{PUSH}/{job_id}", headers=bearer(other.token(xhttp))), 404, "job_not_found")


def test_the_same_batch_twice_is_one_job_applied_once(xhttp: httpx.Client, database: Database) -> None:
    system = pusher(xhttp)
    token = system.token(xhttp)
    people = [resident(xhttp, sex="1") for _ in range(3)]
    records = [record(p) for p in people]
    for r in records:
        del r["ma_tinh"]
    first = push(xhttp, token, records)
    assert first.status_code == 200, first.text
    before = sector_ids(database, [p["personal_id"] for p in people])
    assert len(before) == 3
    # the same records with their keys in another order and an explicit null: the same canonical batch
    again = [{"ma_tinh": None, **dict(reversed(list(r.items())))} for r in records]
    second = push(xhttp, token, again)
    assert second.status_code == 200, second.text
    one, two = first.json(), second.json()
    assert two["job_id"] == one["job_id"] and two["batch_sha256"] == one["batch_sha256"]
    assert two["replayed"] is True and two["outcomes"] == one["outcomes"] == {"linked": 3}
    assert two["log_seq"] > one["log_seq"]
    assert sector_ids(database, [p["personal_id"] for p in people]) == before  # same rows, same linked_at
    assert scalar(database, "SELECT count(*) FROM resident_sector_id_history WHERE job_id = %s", one["job_id"]) == 0
    assert len(entries(database, correlation=f"sync:{one['job_id']}:")) == 1  # one chunk entry, not two
    pushes = [e for e in entries(database, client=system.identifier)  # not the step-8 test push on the sandbox
              if e["service"] == "enrichment_push" and people[0]["personal_id"] in e["personal_ids"]]
    assert len(pushes) == 2  # every push is logged
    assert scalar(database, "SELECT pushes FROM sync_push p JOIN job j ON j.job_key = p.job_key "
                            "WHERE j.job_id = %s", one["job_id"]) == 2


def test_a_system_without_enrichment_push_is_refused_by_rule(xhttp: httpx.Client, database: Database) -> None:
    system = onboard(xhttp, grant(services=["verify"], purposes=[PURPOSE]))
    person = resident(xhttp, sex="1")
    correlation = f"nopush-{uuid.uuid4()}"
    response = push(xhttp, system.token(xhttp), [record(person)], correlation=correlation)
    problem = assert_problem(response, 403, "policy_denied")
    assert {"rule": "service_not_allowed", "value": "enrichment_push"} in problem["denials"]
    assert response.headers["X-Road-Error"] == "policy_denied"
    [entry] = entries(database, correlation=correlation)
    assert (entry["result"], entry["error_code"], entry["service"]) == ("denied", "policy_denied", "enrichment_push")
    assert sector_ids(database, [person["personal_id"]]) == {}


def test_a_push_for_a_source_the_system_does_not_own_is_refused(xhttp: httpx.Client, database: Database) -> None:
    system = pusher(xhttp, sources=["bhyt"])
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")
    tax = [{"so_dinh_danh": person["personal_id"], "ho_ten": person["full_name"], "mst": "8012345678"}]
    problem = assert_problem(push(xhttp, token, tax, source="thue"), 403, "policy_denied")
    assert problem["denials"] == [{"rule": "source_not_allowed", "value": "thue"}]
    assert_problem(push(xhttp, token, tax, source="khongco"), 403, "policy_denied")  # unknown: not owned either
    assert scalar(database, "SELECT count(*) FROM resident_sector_id s JOIN resident r USING (resident_id) "
                            "WHERE r.personal_id = %s", person["personal_id"]) == 0


def test_a_suspended_system_is_refused_at_once(xhttp: httpx.Client) -> None:
    system = pusher(xhttp)
    token = system.token(xhttp)
    first = push(xhttp, token, [record(resident(xhttp, sex="1"))])
    assert first.status_code == 200, first.text
    suspended = xhttp.post(f"/agencies/systems/{system.identifier}/suspend", json={"reason": "kiểm tra"},
                           headers=ACTOR)
    assert suspended.status_code == 200, suspended.text
    assert_problem(push(xhttp, token, [record(resident(xhttp, sex="1"))]), 403, "system_suspended")
    assert_problem(xhttp.get(first.json()["job_url"], headers=bearer(token)), 403, "system_suspended")
    assert xhttp.post(f"/agencies/systems/{system.identifier}/resume", json={}, headers=ACTOR).status_code == 200
    assert xhttp.get(first.json()["job_url"], headers=bearer(token)).status_code == 200


def test_malformed_pushes_are_refused_precisely_and_change_nothing(xhttp: httpx.Client, database: Database) -> None:
    system = pusher(xhttp)
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")
    good = record(person)
    json_headers = bearer(token, **{"content-type": "application/json"})
    system_id = scalar(database, "SELECT system_id FROM information_system WHERE identifier = %s", system.identifier)
    pushed_before = scalar(database, "SELECT count(*) FROM sync_push WHERE system_id = %s", system_id)  # step 8's
    cases: list[tuple[httpx.Response, int, str]] = [
        (xhttp.post(PUSH, content=b'{"source": "bhyt", "records": [', headers=json_headers), 422,
         "validation_failed"),
        (push(xhttp, token, []), 422, "validation_failed"),
        (push(xhttp, token, [{"ho_ten": "A"}] * 10_001), 422, "validation_failed"),
        (push(xhttp, token, [good, {**good, "so_the": "x"}]), 422, "validation_failed"),
        (push(xhttp, token, [{**good, "ma_the": 123}]), 422, "validation_failed"),
        (push(xhttp, token, [good], source="BHYT"), 422, "validation_failed"),
        (push(xhttp, token, [good], extra="x"), 422, "validation_failed"),
        (xhttp.post(PUSH, content=b'{"source":"bhyt","purpose":"p","records":[{"ho_ten":"\\ud800"}]}',
                    headers=json_headers), 422, "validation_failed"),
        (push(xhttp, token, [good], purpose=None), 400, "purpose_required"),
        (xhttp.post(PUSH, content=b"x" * (8 * 1024 * 1024 + 1), headers=json_headers), 413, "payload_too_large"),
        (xhttp.post(PUSH, json={"source": "bhyt", "purpose": PURPOSE, "records": [good]}), 401, "invalid_token"),
    ]
    for response, status, code in cases:
        assert_problem(response, status, code)
    unknown = cases[3][0].json()["errors"]
    assert unknown[0]["field"] == "records.1.so_the" and unknown[0]["code"] == "unknown_column"
    assert scalar(database, "SELECT count(*) FROM sync_push WHERE system_id = %s", system_id) == pushed_before
    assert sector_ids(database, [person["personal_id"]]) == {}
    accepted = push(xhttp, token, [good])  # the same system, a well-formed batch: accepted
    assert accepted.status_code == 200 and accepted.json()["outcomes"] == {"linked": 1}, accepted.text


def test_a_push_lands_as_canonical_json_lines_named_by_its_hash(xhttp: httpx.Client, push_dir: Path) -> None:
    token = pusher(xhttp).token(xhttp)
    records = [record(resident(xhttp, sex="2"))]
    body = push(xhttp, token, records).json()
    spooled = push_dir / "bhyt" / f"{body['batch_sha256']}.jsonl"
    assert spooled.read_bytes() == orjson.dumps(records[0], option=orjson.OPT_SORT_KEYS) + b"\n"
    assert [p.name for p in (push_dir / "bhyt").iterdir() if p.name.startswith(".")] == []


class _FailingWriter(LoopWriter):
    """Starts fine; every append fails as a broken commit would."""

    async def start(self) -> LoopWriter:
        return self

    async def append_async(self, entry: LedgerEntry) -> Receipt:
        raise unavailable()

    async def close(self) -> None:
        return None


def test_no_answer_without_its_log_entry_and_a_resend_completes_the_push(
        xhttp: httpx.Client, database: Database, exchange_app: FastAPI) -> None:
    system = pusher(xhttp)
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")
    records = [record(person)]
    healthy = exchange_app.state.ledger_writer
    exchange_app.state.ledger_writer = LedgerPort(libpq_url(database.url),
                                                  factory=_FailingWriter)
    try:
        lost = push(xhttp, token, records)
    finally:
        exchange_app.state.ledger_writer = healthy
    assert_problem(lost, 503, "ledger_unavailable")
    assert "job_id" not in lost.json()
    assert person["personal_id"] in sector_ids(database, [person["personal_id"]])  # applied, with its chunk entry
    again = push(xhttp, token, records)  # what an integrator does after a 503: send the same batch
    assert again.status_code == 200 and again.json()["replayed"] is True, again.text
    assert again.json()["outcomes"] == {"linked": 1}


def test_a_failed_synchronisation_is_logged_and_answers_a_problem(
        xhttp: httpx.Client, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    system = pusher(xhttp)
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")

    def broken(*args: object) -> None:
        raise psycopg.OperationalError("the database went away")

    monkeypatch.setattr(spool, "synchronise", broken)
    correlation = f"broken-{uuid.uuid4()}"
    assert_problem(push(xhttp, token, [record(person)], correlation=correlation), 500, "internal_error")
    [entry] = entries(database, correlation=correlation)
    assert (entry["result"], entry["error_code"]) == ("error", "internal_error")
    assert entry["personal_ids"] == [person["personal_id"]]
    assert sector_ids(database, [person["personal_id"]]) == {}


def test_the_same_batch_pushed_twice_at_once_is_applied_once(xhttp: httpx.Client, database: Database) -> None:
    token = pusher(xhttp).token(xhttp)
    people = [resident(xhttp, sex="1") for _ in range(2)]
    records = [record(p) for p in people]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: push(xhttp, token, records), range(2)))
    assert {a.status_code for a in answers} <= {200, 202}, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert bodies[0]["job_id"] == bodies[1]["job_id"]
    assert sorted(b["replayed"] for b in bodies) == [False, True]  # one applied, the other found it applied
    assert len(entries(database, correlation=f"sync:{bodies[0]['job_id']}:")) == 1
    assert len(sector_ids(database, [p["personal_id"] for p in people])) == 2


def test_a_pushed_record_without_its_id_is_matched_demographically(xhttp: httpx.Client, database: Database) -> None:
    """Once the registry's key index exists, a push runs stage (b) too: a record with no personal ID but the
    resident's name, date of birth and province links, and the answer counts it under ``demographic``."""
    from dancu.sync.matching import index

    with psycopg.connect(libpq_url(database.url)) as conn:
        index.build(conn)  # once per registry; the push refreshes it for residents created since
    token = pusher(xhttp).token(xhttp)
    person = resident(xhttp, sex="2", full_name=f"Khúc Thị {uuid.uuid4().hex[:6].upper()}Nga")
    without_id = record(person, so_dinh_danh=None, ma_tinh=person.get("permanent_province") or "01")
    response = push(xhttp, token, [without_id])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcomes"] == {"unmatched_id": 1} and body["demographic"] == {"linked": 1}, body
    assert sector_ids(database, [person["personal_id"]])[person["personal_id"]][0] == without_id["ma_the"]
