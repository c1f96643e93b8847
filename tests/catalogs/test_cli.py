"""The ``dancu catalogs`` commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dancu.catalogs import cli
from dancu.db import Database


@pytest.fixture
def runner(database: Database, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    return CliRunner()


def test_load_reports_nothing_changed(runner: CliRunner) -> None:
    result = runner.invoke(cli.app, ["load"])
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output and "updated" not in result.output


def test_list_and_show(runner: CliRunner) -> None:
    listed = runner.invoke(cli.app, ["list"])
    assert listed.exit_code == 0 and "province_63" in listed.output
    shown = runner.invoke(cli.app, ["show", "province_63", "--as-of", "2020-01-01"])
    assert shown.exit_code == 0 and "Hà Giang" in shown.output
    assert runner.invoke(cli.app, ["show", "sex", "--as-of", "nope"]).exit_code != 0
