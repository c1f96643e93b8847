from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dancu.agencies import cli
from dancu.db import Database
from tests.agencies.factories import ClientKey, letter, sandbox_calls, step_body

runner = CliRunner()


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    return database


def test_operator_walks_a_request_and_suspends_from_the_cli(cli_database: Database, tmp_path: Path,
                                                            http: httpx.Client) -> None:
    body = tmp_path / "letter.json"
    request_letter = letter(org_type="telecom")
    body.write_text(json.dumps(request_letter), encoding="utf-8")
    started = runner.invoke(cli.app, ["start", "--json", str(body), "--actor", "cli-officer"])
    assert started.exit_code == 0, started.output
    view = json.loads(started.output)
    request_id, system = view["request_id"], view["system"]
    keys = ClientKey(), ClientKey()
    for number in range(2, 11):
        if number == 6:
            args = ["--decision", "approve"]
        elif number == 8:  # the system's own test calls, then the step that finds them in the log
            sandbox_calls(http, system, keys[0], request_letter["services"], request_letter["fields"])
            args = []
        else:
            path = tmp_path / f"step{number}.json"
            path.write_text(json.dumps(step_body(number, *keys)), encoding="utf-8")
            args = ["--json", str(path)]
        done = runner.invoke(cli.app, ["step", str(request_id), str(number), *args, "--actor", "cli-officer"])
        assert done.exit_code == 0, done.output
    assert json.loads(done.output)["state"] == "live"
    out = runner.invoke(cli.app, ["step", str(request_id), "10", "--actor", "x"])
    assert out.exception is not None and getattr(out.exception, "code", "") == "onboarding_step_out_of_order"
    suspended = runner.invoke(cli.app, ["suspend", system, "--reason", "Kiểm tra", "--actor", "cli-officer"])
    assert json.loads(suspended.output)["status"] == "suspended"
    resumed = runner.invoke(cli.app, ["resume", system, "--actor", "cli-officer"])
    assert json.loads(resumed.output)["status"] == "active"
    ended = runner.invoke(cli.app, ["terminate", system, "--reason", "Hết hợp đồng", "--actor", "cli-officer"])
    assert json.loads(ended.output)["status"] == "terminated"
    assert runner.invoke(cli.app, ["resume-due"]).exit_code == 0
    assert runner.invoke(cli.app, ["prune-assertions"]).exit_code == 0
