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


def test_housekeeping_command_deletes_expired_sessions(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import secrets
    from datetime import UTC, datetime, timedelta

    from dancu.citizen.models import PortalSession

    monkeypatch.setattr(cli, "get_database", lambda: database)
    token = secrets.token_bytes(32)
    with database.sessions.begin() as session:
        session.add(PortalSession(token_hash=token, csrf_token="t", stage="anonymous",
                                  expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    result = CliRunner().invoke(cli.app, ["housekeeping"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "sessions" in result.output
    with database.sessions() as session:
        assert session.get(PortalSession, token) is None
