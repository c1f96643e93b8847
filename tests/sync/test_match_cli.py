"""``dancu sync index-keys``, ``match`` and ``weights`` on the test database."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from dancu.cli import app
from dancu.db import Database
from dancu.sync import testdata
from tests.registry import factories


def test_index_keys_match_and_weights(database: Database, population: list[testdata.TrueResident],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dancu.sync.cli.get_database", lambda: database)
    runner = CliRunner()
    name = f"Đoàn Văn {factories.token()}"
    with database.sessions.begin() as session:
        factories.create(session, full_name=name, date_of_birth="1970-10-20", sex="1", permanent_province="01")
    built = runner.invoke(app, ["sync", "index-keys", "--refresh"], env={"COLUMNS": "200"})
    assert built.exit_code == 0, built.output
    with database.raw_connection() as conn:
        row = conn.execute(
            """INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report)
               VALUES (%s, 'sync', %s, 'done', 0, 0, '{}', '{}') RETURNING job_id""",
            (f"cli:{name}", orjson.dumps({"source": "bhyt", "sector_key": f"k{factories.token()}"}).decode()),
        ).fetchone()
        assert row is not None
        record = {"full_name": name.upper(), "dob_year": 1970, "dob_month": 10, "dob_day": 20, "sex": "1",
                  "province": "01"}
        conn.execute("""INSERT INTO sync_record (job_id, line_no, outcome, reasons, sector_value, detail)
                        VALUES (%s, 2, 'unmatched_id', '{id_missing}', 'GD4010000000001', %s)""",
                     (row[0], orjson.dumps({"record": record}).decode()))
        conn.commit()
    matched = runner.invoke(app, ["sync", "match", str(row[0])], env={"COLUMNS": "200"})
    assert matched.exit_code == 0, matched.output
    assert "'linked': 1" in matched.output
    shown = runner.invoke(app, ["sync", "weights", "bhyt"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and '"thresholds"' in shown.output and '"weights"' in shown.output
