"""``dancu sync run`` end to end: stage (a) by ID, then stage (b) for what the ID did not place — or a clear
word that stage (b) waits for the key index — resumable like each stage alone."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from dancu.cli import app
from dancu.db import Database
from dancu.sync import flows, testdata
from dancu.sync.matching import index
from dancu.sync.sources import Source
from tests.sync.conftest import WriteFile, new_source


def _toml(path: Path, source: Source) -> Path:
    columns = ", ".join(f'{field} = "{column}"' for field, column in source.columns.items())
    path.write_text(f'[[source]]\ncode = "{source.code}"\nname = "t"\nsector_key = "{source.sector_key}"\n'
                    f'identifier_column = "{source.identifier_column}"\n'
                    f"identifier_pattern = '{source.identifier_pattern}'\ncolumns = {{ {columns} }}\n")
    return path


def _outcomes(database: Database, job_id: int) -> dict[str, int]:
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT outcome, count(*) FROM sync_record WHERE job_id = :j GROUP BY 1"),
                            {"j": job_id}).all()
        linked = conn.execute(text("SELECT count(*) FROM resident_sector_id WHERE job_id = :j"),
                              {"j": job_id}).scalar_one()
    return {**{str(o): int(n) for o, n in rows}, "links": int(linked)}


def _records(population: list[testdata.TrueResident], source: Source, seed: int) -> list[testdata.Labelled]:
    rng = random.Random(seed)
    kinds = ["clean", "id_missing", "id_missing+no_diacritics", "id_digit+old_tone", "id_missing+reversed"]
    return [testdata.record(rng, person, kinds[n % len(kinds)], source) for n, person in enumerate(population)]


def test_sync_run_links_by_id_then_demographically(database: Database, population: list[testdata.TrueResident],
                                                   write_file: WriteFile, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dancu.sync.cli.get_database", lambda: database)
    with database.raw_connection() as conn:
        index.build(conn)
    source = new_source()
    records = _records(population[1000:1200], source, seed=5)
    path = write_file(source, records, ".csv")
    args = ["sync", "run", source.code, str(path), "--sources", str(_toml(tmp_path / "s.toml", source)),
            "--no-progress", "--chunk-size", "60"]
    ran = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert ran.exit_code == 0, ran.output
    assert "stage (b): done" in ran.output
    with database.engine.connect() as conn:
        job_id = conn.execute(text("SELECT job_id FROM job WHERE params ->> 'source' = :s"),
                              {"s": source.code}).scalar_one()
        links = dict(conn.execute(text("SELECT resident_id, line_no FROM resident_sector_id WHERE sector_key = :k"),
                                  {"k": source.sector_key}).all())
    counts = _outcomes(database, job_id)
    assert "unmatched_id" not in counts  # every record went through stage (b)
    by_id = sum(1 for r in records if r.noise == "clean")
    assert counts["links"] > by_id + 0.8 * (len(records) - by_id)  # most records without a usable ID linked too
    assert all(links.get(r.resident_id) == line for line, r in enumerate(records, start=2) if r.noise == "clean")
    again = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "already done" in again.output and _outcomes(database, job_id) == counts


def test_without_the_key_index_stage_b_is_skipped_and_says_why(
        database: Database, population: list[testdata.TrueResident], write_file: WriteFile,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows.index, "is_built", lambda conn: False)
    source = new_source()
    path = write_file(source, _records(population[1200:1250], source, seed=6), ".jsonl")
    done = flows.synchronise(database, source, path)
    assert done.stage_b_state == flows.STAGE_B_SKIPPED_NO_INDEX and done.stage_b == {}
    assert _outcomes(database, done.stage_a.job_id)["unmatched_id"] > 0  # waiting for `dancu sync match JOB`
    assert flows.synchronise(database, source, path, match=False).stage_b_state == flows.STAGE_B_NOT_ASKED
