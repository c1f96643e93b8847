"""``dancu operators …`` on the server: the token printed once on stdout, everything else on stderr."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from typer.testing import CliRunner

from dancu.db import Database
from dancu.operators import cli, domain

runner = CliRunner()


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    return database


def dancu(*args: str) -> str:
    result = runner.invoke(cli.app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_add_token_revoke_disable(cli_database: Database, http: httpx.Client) -> None:
    username = f"cli-{uuid.uuid4().hex[:8]}"
    first = dancu("add", username, "--role", "inspector", "--role", "registry_reader", "--name", "Phạm Văn Dũng",
                  "--unit", "C06", "--days", "2").strip()
    assert domain.is_well_formed(first)
    me = http.get("/operators/me", headers={"Authorization": f"Bearer {first}"}).json()
    assert me["roles"] == ["inspector", "registry_reader"]
    second = dancu("token", username, "--note", "script").strip()
    assert domain.is_well_formed(second) and second != first
    [account] = [a for a in json.loads(dancu("list")) if a["username"] == username]
    assert account["created_by"].startswith("cli:") and len(account["tokens"]) == 2
    assert first not in dancu("list") and second not in dancu("list")
    dancu("revoke", username, str(account["tokens"][0]["token_id"]))
    assert http.get("/operators/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert http.get("/operators/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    dancu("roles", username, "--role", "reviewer")
    assert http.get("/sync/review", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    dancu("disable", username)
    assert http.get("/operators/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    dancu("enable", username)
    third = dancu("token", username).strip()
    assert http.get("/operators/me", headers={"Authorization": f"Bearer {third}"}).status_code == 200
    dancu("revoke", username, "--all")
    assert http.get("/operators/me", headers={"Authorization": f"Bearer {third}"}).status_code == 401


def test_add_without_token_and_mistakes(cli_database: Database) -> None:
    username = f"cli-{uuid.uuid4().hex[:8]}"
    assert dancu("add", username, "-r", "admin", "--name", "A", "--unit", "B", "--no-token") == ""
    for args in (["add", username, "-r", "admin", "--name", "A", "--unit", "B"],
                 ["add", f"x{username}", "-r", "superuser", "--name", "A", "--unit", "B"],
                 ["token", "nobody-at-all"], ["revoke", username]):
        result = runner.invoke(cli.app, args)
        assert result.exit_code != 0, args
