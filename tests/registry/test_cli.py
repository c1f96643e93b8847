from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dancu.db import Database
from dancu.registry import cli
from tests.ledger.reads import DownWriter
from tests.registry.factories import create, resident_payload, token

runner = CliRunner()


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    monkeypatch.setattr(cli, "console", cli.Console(width=250))
    return database


def test_create_correct_show_search(cli_database: Database, tmp_path: Path) -> None:
    name = f"Hoàng Văn {token()}"
    body = tmp_path / "resident.json"
    body.write_text(json.dumps(resident_payload(full_name=name)), encoding="utf-8")
    created = runner.invoke(cli.app, ["create", "--json", str(body), "--actor", "cli-test"])
    assert created.exit_code == 0, created.output
    found = runner.invoke(cli.app, ["search", "--name", name.lower()])
    assert found.exit_code == 0 and name in found.output
    with cli_database.sessions() as session:
        from sqlalchemy import select

        from dancu.registry.models import Resident

        pid = session.scalar(select(Resident.personal_id).where(Resident.full_name == name))
    corrected = runner.invoke(cli.app, ["correct", pid, "--set", "blood_type=B+", "--reason", "đính chính"])
    assert corrected.exit_code == 0, corrected.output
    history = runner.invoke(cli.app, ["history", pid])
    assert "corrected" in history.output and "B+" in history.output
    moved = runner.invoke(cli.app, ["move", pid, "--current", "79,26743,5 Lê Lợi"])
    assert moved.exit_code == 0, moved.output
    died = runner.invoke(cli.app, ["death", pid, "--date", "2025", "--kind", "dead"])
    assert died.exit_code == 0, died.output
    shown = runner.invoke(cli.app, ["show", pid])
    assert "death_date" in shown.output


def _cli_entries(database: Database, pid: str) -> list[tuple[str, str, str, list[str]]]:
    from sqlalchemy import text

    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT client_system, end_user, service, purpose, fields_disclosed FROM ledger_entry"
                                 " WHERE personal_ids @> ARRAY[CAST(:p AS text)] ORDER BY seq"), {"p": pid})
        return [(r.client_system, r.end_user, r.service, r.purpose, r.fields_disclosed[-1]) for r in rows]


def test_reads_are_logged_as_the_cli_before_they_print(cli_database: Database) -> None:
    with cli_database.sessions.begin() as session:
        record = create(session, full_name=f"Đinh Văn {token()}")
    pid, name = record.resident.fields["personal_id"], record.resident.fields["full_name"]
    shown = runner.invoke(cli.app, ["show", pid, "--actor", "cb.tra.cuu", "--purpose", "đối chiếu hồ sơ"])
    assert shown.exit_code == 0 and name in shown.output, shown.output
    assert runner.invoke(cli.app, ["history", pid, "--actor", "cb.tra.cuu"]).exit_code == 0
    found = runner.invoke(cli.app, ["search", "--name", name, "--actor", "cb.tra.cuu"])
    assert found.exit_code == 0 and pid in found.output
    assert _cli_entries(cli_database, pid) == [
        ("operator:cli", "cb.tra.cuu", "registry.read", "đối chiếu hồ sơ", "history"),
        ("operator:cli", "cb.tra.cuu", "registry.history", "quản lý dân cư", "history"),
        ("operator:cli", "cb.tra.cuu", "registry.search", "quản lý dân cư", "permanent_commune"),
    ]


def test_a_read_that_cannot_be_logged_prints_nothing(cli_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from dancu.ledger.errors import LedgerUnavailable

    with cli_database.sessions.begin() as session:
        record = create(session, full_name=f"Đinh Thị {token()}")
    pid, name = record.resident.fields["personal_id"], record.resident.fields["full_name"]
    monkeypatch.setattr(cli, "ledger_writer", lambda database: DownWriter())
    for args in (["show", pid], ["history", pid], ["search", "--name", name]):
        result = runner.invoke(cli.app, args)
        assert isinstance(result.exception, LedgerUnavailable), (args, result.output)
        assert name not in result.output and pid not in result.output
    assert _cli_entries(cli_database, pid) == []
