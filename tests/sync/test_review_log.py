"""The review queue over real HTTP (and the command) writes its exchange-log entries before the answer leaves: the
residents an item shows, by the personal ID they hold now, with the fields it tells something about; one entry
per set of fields; with the log down, a 503, nothing shown and no decision applied."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dancu.db import Database
from dancu.ledger.errors import LedgerUnavailable
from dancu.sync import cli, disclosure, testdata
from dancu.sync.matching.stage_b import run_stage_b
from dancu.sync.schemas import ReviewItem
from dancu.sync.sources import Source
from tests.ledger.reads import (
    DownWriter,
    assert_refused_unlogged,
    by_resident,
    logged,
    max_seq,
    operator_entries,
    operator_entries_since,
)
from tests.operators.accounts import auth
from tests.registry import factories
from tests.sync.conftest import WriteFile, new_source
from tests.sync.test_demographic_stage_b import keys, stage_b_job, twins
from tests.sync.test_review import _conflict

REVIEWER = "officer-9"
STAGE_A = ["personal_id", "full_name", "date_of_birth", "sex", "sector_ids"]  # ID found, agreement shown, held value
STAGE_B = ["full_name", "date_of_birth", "sex", "permanent_province", "current_province"]  # a candidate's levels
runner = CliRunner()


@pytest.fixture
def reviewer(http: httpx.Client) -> httpx.Client:
    http.headers.update(auth(REVIEWER))
    return http


def personal_id(database: Database, resident_id: int) -> str:
    with database.engine.connect() as conn:
        return str(conn.execute(text("SELECT personal_id FROM resident WHERE resident_id = :r"),
                                {"r": resident_id}).scalar_one())


def named(database: Database, page: list[dict[str, Any]]) -> set[str]:
    """Every resident the items name, read from the answer itself."""
    ids = {i["resident_id"] for i in page} | {c["resident_id"] for i in page
                                              for c in [i["detail"].get("match"), *i["detail"].get("candidates", [])]
                                              if c and "resident_id" in c}
    return {personal_id(database, rid) for rid in ids}



def stage_b_review(database: Database) -> tuple[int, list[str], str]:
    """A job of two stage-(b) review items: namesakes (year only: both fit) and a resident who already holds
    another value; returns the job and the personal IDs of the namesakes and of the holder."""
    name, other = f"Khúc Thị {factories.token()}", f"Quách Thị {factories.token()}"
    namesakes = twins(database, name, (9, 21))
    [holder] = twins(database, other, (14,))
    keys(database)
    source = new_source()
    with database.raw_connection() as conn:
        conn.execute("""INSERT INTO resident_sector_id (resident_id, sector_key, value, source, linked_at)
                        VALUES (%s, %s, 'OLD0000001', 'test', now())""", (holder, source.sector_key))
        job_id = stage_b_job(conn, source, [
            {"full_name": name, "dob_year": 1992, "sex": "2"},
            {"full_name": other, "dob_year": 1992, "dob_month": 3, "dob_day": 14, "sex": "2"}])
        run_stage_b(conn, job_id)
        conn.commit()
    return job_id, [personal_id(database, r) for r in namesakes], personal_id(database, holder)


def test_a_stage_a_item_is_logged_with_its_resident_and_what_it_shows(
        database: Database, reviewer: httpx.Client, population: list[testdata.TrueResident], source: Source,
        write_file: WriteFile) -> None:
    item, job_id = _conflict(database, population, source, write_file, 110)
    pid = personal_id(database, item.resident_id)
    response = reviewer.get("/sync/review", params={"job": job_id, "purpose": "đối chiếu thẻ BHYT"})
    [entry] = logged(database, response, REVIEWER)
    [shown] = response.json()["items"]
    assert shown["resident_id"] == item.resident_id and shown["detail"]["existing"] == item.values["ma_so"]
    assert (entry.service, entry.purpose) == ("sync.review", "đối chiếu thẻ BHYT")
    assert entry.personal_ids == [pid] and entry.fields_disclosed == STAGE_A
    default = logged(database, reviewer.get("/sync/review", params={"job": job_id}), REVIEWER)[0]
    assert default.purpose == disclosure.DEFAULT_PURPOSE == "duyệt kết quả đồng bộ dữ liệu chuyên ngành"
    assert [e.seq for e in operator_entries(database, pid, "sync.review")] == [entry.seq, default.seq]

    accepted = reviewer.post(f"/sync/review/{job_id}-2/accept", json={"note": "BHXH xác nhận"})
    [decided] = logged(database, accepted, REVIEWER)
    assert accepted.json()["state"] == "accepted" and accepted.json()["reviewed_by"] == REVIEWER
    assert (decided.service, decided.personal_ids, decided.fields_disclosed) == ("sync.review.accept", [pid], STAGE_A)


def test_candidates_are_logged_by_their_personal_ids_one_entry_per_set_of_fields(
        database: Database, reviewer: httpx.Client) -> None:
    job_id, namesakes, holder = stage_b_review(database)
    response = reviewer.get("/sync/review", params={"job": job_id})
    page = response.json()["items"]
    assert [i["reasons"][-1] for i in page] == ["ambiguous_candidates", "sector_id_conflict"]
    entries = logged(database, response, REVIEWER)
    assert len(entries) >= 2 and response.headers["x-dancu-log-seq"] == ", ".join(str(e.seq) for e in entries)
    fields = by_resident(entries)
    assert set(fields) == named(database, page) >= {*namesakes, holder}
    assert [fields[pid] for pid in namesakes] == [STAGE_B, STAGE_B]  # no personal ID shown, no held value
    assert fields[holder] == [*STAGE_B, "sector_ids"]  # the value it holds is shown ("existing")
    assert all(e.service == "sync.review" for e in entries)

    rejected = reviewer.post(f"/sync/review/{job_id}-2/reject", json={"note": "không rõ người nào"})
    decided = logged(database, rejected, REVIEWER)
    assert rejected.json()["state"] == "rejected" and {e.service for e in decided} == {"sync.review.reject"}
    assert set(by_resident(decided)) >= set(namesakes) and holder not in by_resident(decided)


def test_an_empty_page_is_nothing_logged(database: Database, reviewer: httpx.Client) -> None:
    before = max_seq(database)
    empty = reviewer.get("/sync/review", params={"job": 999_999_999})
    assert empty.status_code == 200 and empty.json()["items"] == [] and "x-dancu-log-seq" not in empty.headers
    assert reviewer.post("/sync/review/999999999-2/accept").status_code == 404
    assert operator_entries_since(database, before) == []
    assert reviewer.get("/sync/review", params={"purpose": "x" * 201}).status_code == 422


def test_with_the_log_down_nothing_is_shown_and_no_decision_applied(
        database: Database, reviewer: httpx.Client, population: list[testdata.TrueResident], source: Source,
        write_file: WriteFile, broken_ledger: None) -> None:
    item, job_id = _conflict(database, population, source, write_file, 111)
    pid, held = personal_id(database, item.resident_id), item.values["ma_so"]
    before = max_seq(database)
    refused = [reviewer.get("/sync/review", params={"job": job_id}),
               reviewer.post(f"/sync/review/{job_id}-2/accept", json={"note": "x"}),
               reviewer.post(f"/sync/review/{job_id}-2/reject", json={"note": "x"})]
    for response in refused:
        assert_refused_unlogged(response, held, "9999999999")
    with database.engine.connect() as conn:
        state = conn.execute(text("SELECT review_state FROM sync_record WHERE job_id = :j AND line_no = 2"),
                             {"j": job_id}).scalar_one()
        value = conn.execute(text("SELECT value FROM resident_sector_id WHERE resident_id = :r AND sector_key = :k"),
                             {"r": item.resident_id, "k": source.sector_key}).scalar_one()
    assert (state, value) == ("open", held)  # neither decision was applied
    assert operator_entries_since(database, before) == [] and operator_entries(database, pid) == []


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    monkeypatch.setattr(cli, "console", cli.Console(width=400))
    return database


def test_the_command_logs_before_it_prints(cli_database: Database, population: list[testdata.TrueResident],
                                           source: Source, write_file: WriteFile,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    item, job_id = _conflict(cli_database, population, source, write_file, 112)
    pid = personal_id(cli_database, item.resident_id)
    listed = runner.invoke(cli.app, ["review", "list", "--job", str(job_id), "--actor", "cb.dong.bo"])
    assert listed.exit_code == 0 and item.values["ma_so"] in listed.output, listed.output
    [entry] = operator_entries(cli_database, pid)
    assert (entry.client_system, entry.end_user, entry.service, entry.purpose, entry.fields_disclosed) == (
        "operator:cli", "cb.dong.bo", "sync.review", disclosure.DEFAULT_PURPOSE, STAGE_A)
    decided = runner.invoke(cli.app, ["review", "reject", f"{job_id}-2", "--note", "thẻ cũ", "--actor", "cb.dong.bo"])
    assert decided.exit_code == 0 and item.values["ma_so"] not in decided.output  # id, state, who, note: no data
    assert operator_entries(cli_database, pid) == [entry]

    other, other_job = _conflict(cli_database, population, source, write_file, 113)
    monkeypatch.setattr(cli, "ledger_writer", lambda database: DownWriter())
    refused = runner.invoke(cli.app, ["review", "list", "--job", str(other_job)])
    assert isinstance(refused.exception, LedgerUnavailable), refused.output
    assert other.values["ma_so"] not in refused.output and str(other.resident_id) not in refused.output
    assert operator_entries(cli_database, personal_id(cli_database, other.resident_id)) == []


@pytest.mark.parametrize(("detail", "reasons", "expected"), [
    ({"name": "different", "dob": "same", "sex": "same", "name_similarity": 0.2, "record": {}}, ["name_mismatch"],
     {7: ("personal_id", "full_name", "date_of_birth", "sex")}),
    ({"name": "same", "dob": "same", "sex": "same", "record": {}}, ["resident_deceased"],
     {7: ("personal_id", "full_name", "date_of_birth", "sex", "death_kind")}),
    ({"match": {"resident_id": 7, "fields": {"given": {}, "dob": {}, "commune": {}}},
      "candidates": [{"resident_id": 7, "fields": {"given": {}, "dob": {}, "commune": {}}},
                     {"resident_id": 8, "fields": {"family": {}, "sex": {}}}], "existing": "X1"},
     ["sector_id_conflict"],
     {7: ("sector_ids", "full_name", "date_of_birth", "permanent_commune", "current_commune"),
      8: ("full_name", "sex")}),
])
def test_what_an_item_tells_about_whom(detail: dict[str, Any], reasons: list[str],
                                       expected: dict[int, tuple[str, ...]]) -> None:
    item = ReviewItem(id="1-2", job_id=1, line_no=2, source="bhyt", sector_key="k", resident_id=7,
                      sector_value="V", reasons=reasons, detail=detail, state="open")
    told: dict[int, set[str]] = {}
    for resident_id, fields in disclosure.resident_fields(item):
        told.setdefault(resident_id, set()).update(fields)
    assert told == {rid: set(fields) for rid, fields in expected.items()}
