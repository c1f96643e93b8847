"""Inspection over a real log: search, reports, flags, CSV, and the citizen's access history."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger import inspection
from dancu.ledger.inspection_repository import SearchFilter
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry
from tests.operators.accounts import auth

TODAY = date(2026, 11, 20)  # Vietnam day
BANK, TELCO = "VN/COM/BANK01/ekyc", "VN/COM/TELCO9/sim"


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 10, 20, 3, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def log(empty_ledger: Database) -> Iterator[Database]:
    """28 days of ~10 bank verifications a day, then today: 60 bank requests at 23:00 Vietnam time (most for
    unknown IDs) and a few telco ones."""
    clock = _Clock()
    url = libpq_url(empty_ledger.url)
    with LedgerWriter(lambda: psycopg.connect(url), clock=clock) as writer:
        for day in range(28, 0, -1):
            clock.now = datetime(2026, 11, 20, 3, tzinfo=UTC) - timedelta(days=day)
            for i in range(10):
                writer.append(make_entry(i, client_system=BANK))
        clock.now = datetime(2026, 11, 20, 16, tzinfo=UTC)  # 23:00 in Vietnam
        for i in range(60):
            writer.append(make_entry(i, client_system=BANK, personal_ids=(f"0790{i:08d}",),
                                     error_code="resident_not_found" if i % 3 else None,
                                     fields_disclosed=() if i % 3 else ("full_name",)))
        for i in range(5):
            writer.append(make_entry(i, client_system=TELCO, service="retrieve", purpose="đăng ký thuê bao",
                                     personal_ids=("001200000042",)))
    yield empty_ledger


def test_search_filters_and_keyset_pages(log: Database) -> None:
    with log.sessions() as session:
        page = inspection.search(session, SearchFilter(organisation="VN/COM/TELCO9"))
        assert [e.client_system for e in page.items] == [TELCO] * 5 and page.next_before is None
        assert len(inspection.search(session, SearchFilter(personal_id="001200000042")).items) == 5
        assert len(inspection.search(session, SearchFilter(organisation="VN/COM/TELCO")).items) == 0
        since = datetime(2026, 11, 20, tzinfo=UTC)
        assert len(inspection.search(session, SearchFilter(client_system=BANK, since=since)).items) == 60
        assert len(inspection.search(session, SearchFilter(error_code="resident_not_found")).items) == 40
        seen, before = [], None
        while True:
            page = inspection.search(session, SearchFilter(client_system=BANK), limit=120, before=before)
            seen += [e.seq for e in page.items]
            if page.next_before is None:
                break
            before = page.next_before
        assert seen == sorted(seen, reverse=True) and len(seen) == 340 == len(set(seen))


def test_system_report(log: Database) -> None:
    with log.sessions() as session:
        report = inspection.system_report(session, BANK, TODAY - timedelta(days=2), TODAY)
    assert [(d["day"], d["requests"]) for d in report.days] == [(TODAY - timedelta(days=2), 10),
                                                                (TODAY - timedelta(days=1), 10), (TODAY, 60)]
    assert report.denials == [{"error_code": "resident_not_found", "count": 40}]
    assert {f["field"]: f["count"] for f in report.fields}["full_name"] == 20 + 20


def test_flags_over_the_log(log: Database) -> None:
    with log.sessions() as session:
        found = {(f.system, f.kind) for f in inspection.misuse_flags(session, TODAY)}
    # thresholds are for production volumes: lower them to see the rules fire on a small log
    from dancu.ledger import flags, inspection_repository

    with log.sessions() as session:
        days = {d.system: d for d in inspection_repository.system_days(session, TODAY)}
    bank = days[BANK]
    assert bank.requests == 60 and bank.off_hours == 60 and bank.unknown_ids == 40 and bank.history == (10,) * 28
    assert flags.volume_spike(bank, minimum=50) is not None
    assert flags.off_hours_bulk(bank, threshold=50) is not None
    assert flags.enumeration(bank, min_requests=50) is not None
    assert flags.volume_spike(days[TELCO], minimum=1) is None  # no history: no baseline
    assert found == set()  # none at the default thresholds


def test_access_history_names_the_agency(log: Database) -> None:
    from sqlalchemy import text

    with log.sessions.begin() as session:
        org = session.execute(text("INSERT INTO organisation (instance, member_class, member_code, name, org_type) "
                                   "VALUES ('VN', 'COM', 'TELCO9', 'Viễn thông Chín', 'telecom') "
                                   "ON CONFLICT DO NOTHING RETURNING org_id")).scalar()
        if org is not None:
            session.execute(text("INSERT INTO information_system (org_id, identifier, subsystem_code, name, kind, "
                                 "status, readiness) VALUES (:o, :i, 'sim', 'Hệ thống thuê bao', 'client', "
                                 "'active', '{}')"), {"o": org, "i": TELCO})
    with log.sessions() as session:
        page = inspection.access_history(session, "001200000042", limit=3)
        rest = inspection.access_history(session, "001200000042", before=page.next_before)
    assert len(page.items) == 3 and len(rest.items) == 2 and page.items[0].seq > rest.items[0].seq
    first = page.items[0]
    assert first.organisation_name == "Viễn thông Chín" and first.system_name == "Hệ thống thuê bao"
    assert first.purpose == "đăng ký thuê bao" and first.fields_disclosed == ["full_name", "dob"]


def test_the_api(http: httpx.Client, log: Database) -> None:
    http.headers.update(auth("role-inspector"))
    body = http.get("/ledger/entries", params={"organisation": "VN/COM/BANK01", "limit": 50}).json()
    assert len(body["items"]) == 50 and body["next_before"] == body["items"][-1]["seq"]
    response = http.get("/ledger/entries.csv", params={"client_system": TELCO})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 5 and rows[0]["personal_ids"] == "001200000042"
    report = http.get(f"/ledger/reports/systems/{BANK}", params={"from": "2026-11-19", "to": "2026-11-20"})
    assert report.status_code == 200 and len(report.json()["days"]) == 2
    assert http.get(f"/ledger/reports/systems/{BANK}", params={"from": "2026-11-20", "to": "2026-11-01"}
                    ).status_code == 400
    assert http.get("/ledger/flags", params={"date": "2026-11-20"}).json() == []
    assert len(http.get("/ledger/residents/001200000042/access").json()["items"]) == 5
    for bad in ({"since": "yesterday"}, {"limit": 0}, {"before": -1}, {"personal_id": "x" * 50}):
        assert http.get("/ledger/entries", params=bad).status_code == 422


def test_days_outside_any_log_are_refused_not_a_500(http: httpx.Client, log: Database) -> None:
    """The contract fuzzer found ``to=0001-01-01`` overflowing the default window (a 500); every day the
    inspection routes take is checked against a range far around any log."""
    http.headers.update(auth("role-inspector"))
    for params in ({"to": "0001-01-01"}, {"from": "9999-12-31"}, {"from": "1999-12-31", "to": "2000-01-05"}):
        refused = http.get(f"/ledger/reports/systems/{BANK}", params=params)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_period", refused.text
    for day in ("0001-01-01", "9999-12-31"):
        refused = http.get("/ledger/flags", params={"date": day})
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_period", refused.text
    assert http.get(f"/ledger/reports/systems/{BANK}", params={"to": "2000-01-30"}).status_code == 200
    assert http.get("/ledger/flags", params={"date": "2999-12-31"}).status_code == 200


def test_the_commands(log: Database, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from dancu.ledger import cli, cli_inspection

    monkeypatch.setattr(cli_inspection, "get_database", lambda: log)
    runner, out = CliRunner(), Path(str(tmp_path)) / "telco.csv"
    found = runner.invoke(cli.app, ["search", "--org", "VN/COM/TELCO9", "--limit", "3"])
    assert found.exit_code == 0 and "more: --before" in found.output, found.output
    exported = runner.invoke(cli.app, ["export", "--csv", str(out), "--system", TELCO])
    assert exported.exit_code == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 6
    report = runner.invoke(cli.app, ["report", BANK, "--from", "2026-11-20", "--to", "2026-11-20"])
    assert report.exit_code == 0 and '"requests": 60' in report.output
    assert runner.invoke(cli.app, ["flags", "--date", "2026-11-20"]).exit_code == 0
    access = runner.invoke(cli.app, ["access", "001200000042"])
    assert access.exit_code == 0 and "đăng ký thuê bao" in access.output
