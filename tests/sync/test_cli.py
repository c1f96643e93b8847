"""``dancu sync sources`` lists the built-in declarations."""

from __future__ import annotations

from typer.testing import CliRunner

from dancu.cli import app


def test_sources_lists_the_built_in_declarations() -> None:
    result = CliRunner().invoke(app, ["sync", "sources"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for code in ("bhyt", "bhxh", "thue", "health_insurance_number", "tax_code"):
        assert code in result.output
