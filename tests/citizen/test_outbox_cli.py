from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from dancu.citizen import cli
from dancu.citizen.models import OutboxMessage
from dancu.citizen.providers.outbox import OutboxProvider
from dancu.db import Database


def test_outbox_command_shows_the_latest_code(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo outbox's texts are shown; a sent text is listed with its metadata only (blanked)."""
    monkeypatch.setattr(cli, "get_database", lambda: database)
    with database.sessions.begin() as session:
        session.add(OutboxMessage(to_number="0912000222", text=None, kind="otp:login", channel="smpp",
                                  status="sent", attempts=1, sent_at=datetime.now(UTC), provider_message_id="smsc-42"))
        OutboxProvider().send(session, "0912000111", "Ma xac thuc DANCU: 482913", kind="otp:register")
    result = CliRunner().invoke(cli.app, ["outbox", "--limit", "2"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "0912000111" in result.output and "482913" in result.output and "demo" in result.output
    assert "0912000222" in result.output and "sent" in result.output and "771100" not in result.output


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
