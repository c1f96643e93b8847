import pytest
from typer.testing import CliRunner

from dancu.citizen import cli
from dancu.citizen.providers.outbox import OutboxProvider
from dancu.db import Database


def test_outbox_command_shows_the_latest_code(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    with database.sessions.begin() as session:
        OutboxProvider().send(session, "0912000111", "Ma xac thuc DANCU: 482913")
    result = CliRunner().invoke(cli.app, ["outbox", "--limit", "3"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0912000111" in result.output and "482913" in result.output
