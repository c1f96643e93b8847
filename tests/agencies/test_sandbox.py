"""The sandbox of synthetic residents: loaded by the synthetic generator into the same registry, marked,
clearly provenanced, carrying nothing that reaches a real person; the load is resumable and idempotent; the
operators' API and CLI show and load it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from dancu.agencies import cli, sandbox
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.registry import id_number
from dancu.synth import loader
from tests.agencies.factories import ACTOR, assert_problem
from tests.operators.accounts import auth

runner = CliRunner()


class Crash(RuntimeError):
    pass


def _rows(database: Database, sql: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(libpq_url(database.url)) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _count(database: Database) -> int:
    return int(_rows(database, "SELECT count(*) AS n FROM sandbox_resident")[0]["n"])


def test_a_load_adds_only_what_is_missing_and_marks_synthetic_residents(database: Database) -> None:
    before = _count(database)
    first = sandbox.load(database, before + 25, "officer-test")
    assert first.residents == before + 25 and first.loaded == 25 and len(first.jobs) == 1
    again = sandbox.load(database, before + 25, "officer-test")  # idempotent: nothing to add
    assert again.loaded == 0 and again.jobs == () and again.residents == before + 25
    assert sandbox.load(database, 1, "officer-test").loaded == 0  # never fewer: a load adds, never deletes

    [job] = first.jobs
    loaded = _rows(database, "SELECT r.*, s.load_key FROM sandbox_resident s JOIN resident r USING (resident_id) "
                             "WHERE s.load_key = %s", job)
    assert len(loaded) == 25
    seed = int(job.split(":")[1])
    for row in loaded:
        assert row["provenance"]["*"]["source"] == sandbox.source_of(seed) == f"sandbox:synth:seed={seed}"
        assert row["phone"] is None and row["email"] is None and row["old_id_number"] is None  # reaches no one
        id_number.parse(row["personal_id"])  # well formed, issued from the registry's own counters
    numbers = _rows(database, "SELECT n.number, n.origin FROM personal_id_number n JOIN sandbox_resident s "
                              "ON s.resident_id = n.resident_id WHERE s.load_key = %s", job)
    assert {n["number"] for n in numbers} == {r["personal_id"] for r in loaded}  # never issued to anyone else
    history = _rows(database, "SELECT c.actor, c.source, c.reason FROM resident_change c JOIN sandbox_resident s "
                              "ON s.resident_id = c.resident_id WHERE s.load_key = %s", job)
    assert {(h["actor"], h["source"]) for h in history} == {("sandbox", sandbox.source_of(seed))}
    assert all("no real person" in h["reason"] for h in history)
    [record] = _rows(database, "SELECT kind, params, state FROM job WHERE job_key = %s", job)
    assert record["kind"] == "sandbox" and record["state"] == "done"
    assert record["params"]["loaded_by"] == "officer-test" and record["params"]["purpose"] == "sandbox"


def test_an_interrupted_load_is_resumed_first(database: Database) -> None:
    before = _count(database)
    seed = sandbox.SEED_BASE + len(sandbox.summary(database)["loads"])  # the seed the next load would take

    def crash(chunk: int) -> None:
        if chunk == 1:
            raise Crash()

    with pytest.raises(Crash):
        loader.load_population(database, 30, seed, progress=False, chunk_size=10, after_chunk=crash,
                               variant=sandbox.variant("officer-test"))
    assert _count(database) == before + 20  # two chunks of ten committed with their marks, then the crash
    resumed = sandbox.load(database, before + 35, "officer-test")
    assert resumed.jobs[0] == loader.job_key(30, seed, sandbox.variant("x"))  # finished from its checkpoint
    assert resumed.loaded == 10 + 5 and resumed.residents == before + 35
    states = {load["job_key"]: load["state"] for load in sandbox.summary(database)["loads"]}
    assert all(state == "done" for state in states.values())
    marked = _rows(database, "SELECT count(*) AS n, count(DISTINCT resident_id) AS d FROM sandbox_resident")[0]
    assert marked["n"] == marked["d"]  # each resident marked once, none twice after the resumption


def test_operators_see_and_load_the_sandbox_over_http(http: httpx.Client, database: Database) -> None:
    shown = http.get("/agencies/sandbox", headers=auth("contract-all"))
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["residents"] == _count(database) and "không phải người thật" in body["note"]
    assert "no real person" in body["note_en"] and all(load["job_key"].startswith("sandbox:")
                                                       for load in body["loads"])
    grown = http.post("/agencies/sandbox", json={"residents": body["residents"] + 3}, headers=ACTOR)
    assert grown.status_code == 200 and grown.json()["residents"] == body["residents"] + 3
    assert grown.json()["loads"][-1]["loaded_by"] == "officer-c06"
    assert_problem(http.post("/agencies/sandbox", json={"residents": 10_001}, headers=ACTOR), 422,
                   "validation_failed")  # larger sandboxes: the CLI
    assert_problem(http.post("/agencies/sandbox", json={"residents": 5}), 401, "operator_unauthenticated")


def test_the_cli_loads_and_shows_the_sandbox(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "get_database", lambda: database)
    target = _count(database) + 2
    loaded = runner.invoke(cli.app, ["sandbox", "load", "--residents", str(target), "--actor", "cli-officer",
                                     "--no-progress"])
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.output)["residents"] == target and json.loads(loaded.output)["loaded"] == 2
    rerun = runner.invoke(cli.app, ["sandbox", "load", "-n", str(target), "--actor", "cli-officer", "--no-progress"])
    assert json.loads(rerun.output)["loaded"] == 0
    shown = json.loads(runner.invoke(cli.app, ["sandbox", "show"]).output)
    assert shown["residents"] == target and shown["loads"][-1]["loaded_by"] == "cli-officer"
