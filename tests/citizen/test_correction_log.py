"""The correction queue over real HTTP (and the command) writes its exchange-log entries before the answer leaves:
each requester by the number held now, with ``personal_id`` and the fields of their requests shown; one entry per
set of fields; with the log down, a 503, nothing shown and no answer recorded.  The citizen then sees these reads
— and the sync reviewer's — as the database manager's officer, with the fields' labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dancu.citizen import cli as citizen_cli
from dancu.citizen.corrections import cli, disclosure
from dancu.citizen.corrections import service as corrections
from dancu.citizen.history import access_history
from dancu.citizen.portal.i18n import FIELD_LABELS
from dancu.db import Database
from dancu.ledger.errors import LedgerUnavailable
from dancu.registry import service as registry
from dancu.registry.domain import RECORD_FIELDS
from dancu.registry.schemas import CorrectionRequest
from dancu.sync import disclosure as sync_disclosure
from tests.citizen.conftest import (
    csrf,
    make_resident,
    register_account,
    send_sms,
)
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

OFFICER = "cb1"  # a reviewer
MANAGER = "Cơ quan quản lý CSDL quốc gia về dân cư (Bộ Công an)"
runner = CliRunner()


@pytest.fixture
def officer(http: httpx.Client) -> httpx.Client:
    http.headers.update(auth(OFFICER))
    return http


def requester(database: Database, *requests: tuple[str, str]) -> tuple[str, list[int]]:
    """A resident who filed ``(field, requested value)`` requests; their personal ID and the requests' ids."""
    with database.sessions.begin() as session:
        fields = factories.create(session, full_name=f"Mạc Văn {factories.token()}").resident.fields
        ids = [corrections.file_request(session, fields["personal_id"], fields, field, value, "ghi sai").request_id
               for field, value in requests]
    return fields["personal_id"], ids



def test_a_requesters_page_is_one_entry_with_the_fields_asked_about(database: Database,
                                                                   officer: httpx.Client) -> None:
    pid, _ = requester(database, ("email", "moi@example.vn"), ("permanent_address", "15 phố Huế"))
    response = officer.get("/citizen/corrections", params={"personal_id": pid, "purpose": "xử lý đơn số 12"})
    [entry] = logged(database, response, OFFICER)
    assert [(r["field"], r["requested_value"]) for r in response.json()] == [
        ("email", "moi@example.vn"), ("permanent_address", "15 phố Huế")]
    assert (entry.service, entry.purpose) == ("citizen.corrections", "xử lý đơn số 12")
    assert entry.personal_ids == [pid] and entry.fields_disclosed == ["personal_id", "permanent_address", "email"]
    assert [e.seq for e in operator_entries(database, pid)] == [entry.seq]


def test_requesters_shown_different_fields_are_in_different_entries(database: Database,
                                                                    officer: httpx.Client) -> None:
    first, _ = requester(database, ("email", "a@example.vn"), ("phone", "0912345678"))
    second, _ = requester(database, ("blood_type", "O"))
    third, _ = requester(database, ("phone", "0987654321"), ("email", "c@example.vn"))  # same fields as the first
    response = officer.get("/citizen/corrections", params={"limit": 500})
    shown = {r["personal_id"] for r in response.json()}
    assert {first, second, third} <= shown
    entries = logged(database, response, OFFICER)
    fields = by_resident(entries)
    assert set(fields) == shown and all(e.service == "citizen.corrections" for e in entries)
    assert fields[first] == fields[third] == ["personal_id", "phone", "email"]
    assert fields[second] == ["personal_id", "blood_type"]
    together = [e for e in entries if first in e.personal_ids]
    assert third in together[0].personal_ids and second not in together[0].personal_ids
    assert response.headers["x-dancu-log-seq"] == ", ".join(str(e.seq) for e in entries)


def test_an_answer_is_logged_and_a_changed_number_is_named_with_the_number_held_now(
        database: Database, officer: httpx.Client) -> None:
    old, [request_id] = requester(database, ("full_name", "Mạc Văn Tùng"))
    new = factories.unique_number("001", 1985, "1")
    with database.sessions.begin() as session:
        registry.correct_resident(factories.context(session, now=datetime.now(UTC) + timedelta(seconds=1)), old,
                                  CorrectionRequest(changes={"personal_id": new}, expected_version=1, reason="QĐ 9"))
    [listed] = logged(database, officer.get("/citizen/corrections", params={"personal_id": old}), OFFICER)
    assert listed.personal_ids == [new, old] and listed.fields_disclosed == ["personal_id", "full_name"]
    answered = officer.post(f"/citizen/corrections/{request_id}/answer",
                            json={"status": "accepted", "answer": "Đã điều chỉnh"})
    [entry] = logged(database, answered, OFFICER)
    assert answered.json()["answered_by"] == OFFICER and answered.json()["status"] == "accepted"
    assert (entry.service, entry.personal_ids, entry.fields_disclosed) == (
        "citizen.corrections.answer", [new, old], ["personal_id", "full_name"])
    assert entry.purpose == disclosure.DEFAULT_PURPOSE == "giải quyết yêu cầu điều chỉnh thông tin"


def test_an_empty_page_is_nothing_logged(database: Database, officer: httpx.Client) -> None:
    before = max_seq(database)
    empty = officer.get("/citizen/corrections", params={"personal_id": factories.unique_number()})
    assert empty.status_code == 200 and empty.json() == [] and "x-dancu-log-seq" not in empty.headers
    assert officer.post("/citizen/corrections/4000000000/answer",
                        json={"status": "rejected", "answer": "x"}).status_code == 404
    assert operator_entries_since(database, before) == []


def test_with_the_log_down_nothing_is_shown_and_no_answer_recorded(database: Database, officer: httpx.Client,
                                                                  broken_ledger: None) -> None:
    pid, [request_id] = requester(database, ("email", "bimat@example.vn"))
    refused = [officer.get("/citizen/corrections", params={"personal_id": pid}),
               officer.get("/citizen/corrections", params={"limit": 500}),
               officer.post(f"/citizen/corrections/{request_id}/answer",
                            json={"status": "rejected", "answer": "không đủ căn cứ"})]
    for response in refused:
        assert_refused_unlogged(response, pid, "bimat@example.vn")
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT status, answer, answered_by FROM correction_request WHERE request_id = :r"),
                           {"r": request_id}).one()
    assert tuple(row) == ("open", None, None)
    assert operator_entries(database, pid) == []


def test_the_command_logs_before_it_prints(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    monkeypatch.setattr(cli, "console", cli.Console(width=400))
    pid, [request_id] = requester(database, ("religion_code", "00"))
    listed = runner.invoke(citizen_cli.app, ["corrections", "list", "--status", "all", "--limit", "10000",
                                             "--actor", "cb.tiep.dan"])
    assert listed.exit_code == 0 and pid in listed.output, listed.output
    [entry] = operator_entries(database, pid)
    assert (entry.client_system, entry.end_user, entry.service, entry.fields_disclosed) == (
        "operator:cli", "cb.tiep.dan", "citizen.corrections", ["personal_id", "religion_code"])
    answered = runner.invoke(citizen_cli.app, ["corrections", "answer", str(request_id), "--status", "rejected",
                                               "--text", "không có căn cứ", "--actor", "cb.tiep.dan"])
    assert answered.exit_code == 0 and pid not in answered.output  # the number and the status: no one's data
    assert operator_entries(database, pid) == [entry]

    other, _ = requester(database, ("religion_code", "01"))
    monkeypatch.setattr(cli, "ledger_writer", lambda database: DownWriter())
    refused = runner.invoke(citizen_cli.app, ["corrections", "list", "--limit", "10000"])
    assert isinstance(refused.exception, LedgerUnavailable) and other not in refused.output
    assert operator_entries(database, other) == []


def test_every_field_these_screens_log_has_a_label() -> None:
    assert set(RECORD_FIELDS) <= set(FIELD_LABELS)  # corrections: personal_id and any correctable field
    assert {f for fields in sync_disclosure._STAGE_B.values() for f in fields} <= set(FIELD_LABELS)


def review_item_of(database: Database, resident_id: int) -> int:
    """A stage-(a) review item for the resident (their ID, another name: a relative's card?); its job."""
    with database.raw_connection() as conn:
        token = factories.token()
        row = conn.execute("""INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report)
                              VALUES (%s, 'sync', %s, 'done', 0, 0, '{}', '{}') RETURNING job_id""",
                           (f"test:review:{token}", orjson.dumps({"source": f"t{token}", "sector_key": "k"}).decode()),
                           ).fetchone()
        assert row is not None
        detail = {"name": "different", "dob": "same", "sex": "same", "name_similarity": 0.31, "record": {}}
        conn.execute("""INSERT INTO sync_record (job_id, line_no, outcome, resident_id, reasons, sector_value, detail,
                                                 review_state)
                        VALUES (%s, 2, 'review', %s, '{name_mismatch}', 'GD4010012345678', %s, 'open')""",
                     (row[0], resident_id, orjson.dumps(detail).decode()))
        conn.commit()
        return int(row[0])


@pytest.mark.usefixtures("demo_outbox")
def test_the_citizen_sees_the_officers_of_both_queues(live_server: str, database: Database) -> None:
    person = make_resident(database)
    pid = person["personal_id"]
    with database.engine.connect() as conn:
        resident_id = conn.execute(text("SELECT resident_id FROM resident WHERE personal_id = :p"),
                                   {"p": pid}).scalar_one()
    job_id = review_item_of(database, resident_id)
    with httpx.Client(base_url=live_server, timeout=30) as client:
        register_account(client, database, person)
        sent = client.post("/citizen/portal/me/corrections", data={
            "field": "home_town", "requested_value": "Nam Định", "reason": "ghi nhầm",
            "csrf": csrf(client, "/citizen/portal/me")})
        assert sent.headers["location"] == "/citizen/portal/me?sent=1"
        queue = client.get("/citizen/corrections", params={"personal_id": pid}, headers=auth(OFFICER))
        review = client.get("/sync/review", params={"job": job_id}, headers=auth("officer-9"))
        assert queue.status_code == review.status_code == 200
        vietnamese = client.get("/citizen/portal/me/history").text
        english = client.get("/citizen/portal/me/history?lang=en").text
        reply = send_sms(client, person["phone"], f"DC LS {pid}").json()["reply"]
    with database.sessions() as session:
        reads = {a.service: a for a in access_history(session, pid) if a.officer}
    assert (reads["citizen.corrections"].officer, reads["citizen.corrections"].fields) == (
        OFFICER, ("personal_id", "home_town"))
    assert (reads["sync.review"].officer, reads["sync.review"].fields) == (
        "officer-9", ("personal_id", "full_name", "date_of_birth", "sex"))
    for officer, purpose in ((OFFICER, disclosure.DEFAULT_PURPOSE), ("officer-9", sync_disclosure.DEFAULT_PURPOSE)):
        assert f"{MANAGER} — cán bộ {officer}" in vietnamese and purpose in vietnamese
        assert f"Ministry of Public Security) — officer {officer}" in english
        assert f"cán bộ {officer}" in reply
    assert "Quê quán" in vietnamese and "Số định danh cá nhân" in vietnamese and "Giới tính" in vietnamese
    assert "Home town" in english and "Date of birth" in english
    assert "operator:api" not in vietnamese + english and "citizen.corrections" not in vietnamese
    assert "2 lần" in reply
