from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dancu.agencies import cli
from dancu.db import Database
from tests.agencies.factories import ClientKey, letter, sandbox_calls, step_body, walk

runner = CliRunner()


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    return database


def test_operator_walks_a_request_and_suspends_from_the_cli(cli_database: Database, tmp_path: Path,
                                                            http: httpx.Client) -> None:
    body = tmp_path / "letter.json"
    request_letter = letter(org_type="telecom")
    request_letter["documents"] = []  # the letter comes as a file instead
    body.write_text(json.dumps(request_letter), encoding="utf-8")
    refused = runner.invoke(cli.app, ["start", "--json", str(body), "--actor", "cli-officer"])
    assert getattr(refused.exception, "extra", {}).get("rule") == "letter_document_missing"
    scan = tmp_path / "cong-van-de-nghi.pdf"
    scan.write_bytes(b"%PDF-1.7 cong van")
    started = runner.invoke(cli.app, ["start", "--json", str(body), "--document", str(scan), "--actor", "cli-officer"])
    assert started.exit_code == 0, started.output
    view = json.loads(started.output)
    assert view["steps"][0]["documents"] == [{"name": "cong-van-de-nghi.pdf",
                                              "sha256": hashlib.sha256(b"%PDF-1.7 cong van").hexdigest()}]
    request_id, system = view["request_id"], view["system"]
    keys = ClientKey(), ClientKey()
    for number in range(2, 11):
        if number == 6:  # the decision document: a file, hashed by the CLI
            decision = tmp_path / "quyet-dinh-phe-duyet.pdf"
            decision.write_bytes(b"%PDF-1.7 quyet dinh")
            args = ["--decision", "approve", "--document", str(decision)]
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
    six = json.loads(done.output)["steps"][5]
    assert six["documents"] == [{"name": "quyet-dinh-phe-duyet.pdf",
                                 "sha256": hashlib.sha256(b"%PDF-1.7 quyet dinh").hexdigest()}]
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


def test_operator_changes_focal_points_from_the_cli(cli_database: Database, http: httpx.Client) -> None:
    _, system = walk(http)
    member = system.rsplit("/", 1)[0]
    added = runner.invoke(cli.app, [
        "focal-points", "add", member, "--name", "Lê Thị Mai", "--position", "Chuyên viên", "--function",
        "Đầu mối pháp chế", "--phone", "0904 111 222", "--email", "mai.le@bank.example.vn",
        "--reason", "Quyết định số 7/QĐ-NH", "--actor", "cli-officer"])
    assert added.exit_code == 0, added.output
    mai = json.loads(added.output)
    assert mai["published"] and mai["organisation"] == member
    moved = runner.invoke(cli.app, ["focal-points", "update", member, str(mai["focal_point_id"]), "--email",
                                    "mai@bank.example.vn", "--reason", "Hộp thư mới", "--actor", "cli-officer"])
    assert moved.exit_code == 0 and json.loads(moved.output)["email"] == "mai@bank.example.vn"
    shown = json.loads(runner.invoke(cli.app, ["organisation", member]).output)
    [hoa] = [p for p in shown["focal_points"] if p["name"] == "Nguyễn Thị Hoa"]
    gone = runner.invoke(cli.app, ["focal-points", "withdraw", member, str(hoa["focal_point_id"]), "--reason",
                                   "Chuyển công tác", "--actor", "cli-officer"])
    assert gone.exit_code == 0 and json.loads(gone.output)["withdrawn_at"]
    last = runner.invoke(cli.app, ["focal-points", "withdraw", member, str(mai["focal_point_id"]), "--reason",
                                   "Thử", "--actor", "cli-officer"])
    assert last.exception is not None and getattr(last.exception, "code", "") == "focal_point_required"
    bad = runner.invoke(cli.app, ["focal-points", "update", member, str(mai["focal_point_id"]), "--phone", "x",
                                  "--reason", "Sai", "--actor", "cli-officer"])
    assert bad.exception is not None and getattr(bad.exception, "code", "") == "validation_failed"
    history = json.loads(runner.invoke(cli.app, ["organisation", member]).output)["focal_point_history"]
    assert [(c["name"], c["change"], c["actor"]) for c in history][-3:] == [
        ("Lê Thị Mai", "added", "cli-officer"), ("Lê Thị Mai", "updated", "cli-officer"),
        ("Nguyễn Thị Hoa", "withdrawn", "cli-officer")]
    directory = json.loads(runner.invoke(cli.app, ["directory"]).output)["agencies"]
    [agency] = [a for a in directory if a["identifier"] == member]
    assert [(p["name"], p["email"]) for p in agency["focal_points"]] == [("Lê Thị Mai", "mai@bank.example.vn")]
