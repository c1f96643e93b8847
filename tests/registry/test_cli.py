import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dancu.db import Database
from dancu.registry import cli
from tests.registry.factories import resident_payload, token

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
