"""Batch verify (synchronous, ≤ 1,000) and verify jobs (asynchronous, streamed, resumable): stopped at the next
chunk when the system is suspended or terminated or its policy no longer allows the job (and not restarted by a
resumption), taken over from its checkpoint by another process after its runner died."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import orjson
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange import jobs, repository
from dancu.exchange.runtime import Runtime
from dancu.policy import service as policy_service
from dancu.policy.service import Grant
from tests.agencies.factories import ACTOR, assert_problem
from tests.exchange.helpers import PURPOSE, System, bearer, entries, grant, onboard, resident

T = TypeVar("T")


def test_batch_verify_logs_each_item(xhttp: httpx.Client, database: Database) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")
    correlation = f"batch-{uuid.uuid4()}"
    items = [{"personal_id": person["personal_id"], "sex": "1"}, {"personal_id": "001099000002", "sex": "1"},
             {"personal_id": "12345", "sex": "1"}]
    response = xhttp.post("/exchange/v1/verify/batch", json={"purpose": PURPOSE, "items": items},
                          headers=bearer(token, **{"X-Road-Id": correlation}))
    assert response.status_code == 200, response.text
    results = response.json()["items"]
    assert [r["code"] for r in results] == ["ok", "resident_not_found", "invalid_id_number"]
    assert [r["match"] for r in results] == [True, False, False]
    log = entries(database, correlation=correlation)
    assert [e["correlation_id"] for e in log] == [f"{correlation}:{i}" for i in range(3)]
    assert [e["personal_ids"] for e in log] == [[i["personal_id"]] for i in items]
    too_many = {"purpose": PURPOSE, "items": [{"personal_id": "001099000002"}] * 1001}
    assert_problem(xhttp.post("/exchange/v1/verify/batch", json=too_many, headers=bearer(token)),
                   422, "validation_failed")


def _wait(xhttp: httpx.Client, token: str, job_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = xhttp.get(f"/exchange/v1/verify/jobs/{job_id}", headers=bearer(token)).json()
        if view["state"] != "running":
            return dict(view)
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_verify_job_jsonl_with_progress_and_results(xhttp: httpx.Client, database: Database) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp, sex="2", full_name="Vũ Thị Lan")
    rng = random.Random(7)
    lines = [{"personal_id": f"0010990{rng.randrange(10**5):05d}", "sex": "1"} for _ in range(3000)]
    lines[1234] = {"personal_id": person["personal_id"], "sex": "2", "full_name": "vũ thị lan"}
    body = b"\n".join(orjson.dumps(line) for line in lines) + b"\n"
    started = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=body,
                         headers=bearer(token, **{"content-type": "application/x-ndjson", "X-Road-Id": "job-a"}))
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    assert started.json()["total"] == 3000
    view = _wait(xhttp, token, job_id)
    assert view["state"] == "done" and view["done"] == 3000
    results = [orjson.loads(line) for line in
               xhttp.get(f"/exchange/v1/verify/jobs/{job_id}/results", headers=bearer(token)).text.splitlines()]
    assert [r["line"] for r in results] == list(range(1, 3001))
    assert results[1234]["match"] is True and results[1234]["personal_id"] == person["personal_id"]
    rest = xhttp.get(f"/exchange/v1/verify/jobs/{job_id}/results?after=2990", headers=bearer(token)).text
    assert len(rest.splitlines()) == 10
    logged = entries(database, correlation="job-a:")
    assert len(logged) == 3000 and {e["service"] for e in logged} == {"batch_verify"}

    stranger = onboard(xhttp, grant())
    assert_problem(xhttp.get(f"/exchange/v1/verify/jobs/{job_id}", headers=bearer(stranger.token(xhttp))),
                   404, "job_not_found")


def test_verify_job_csv_and_refusals(xhttp: httpx.Client) -> None:
    system = onboard(xhttp, grant())
    token = system.token(xhttp)
    person = resident(xhttp, sex="1", permanent_province="01")
    csv = f"personal_id,sex,address_province\n{person['personal_id']},1,01\n001099000003,1,\n"
    started = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=csv.encode(),
                         headers=bearer(token, **{"content-type": "text/csv"}))
    assert started.status_code == 202, started.text
    assert _wait(xhttp, token, started.json()["job_id"])["done"] == 2
    bad = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=b"name\nx\n",
                     headers=bearer(token, **{"content-type": "text/csv"}))
    assert_problem(bad, 422, "job_input_invalid")
    assert_problem(xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=b"{}",
                              headers=bearer(token, **{"content-type": "application/xml"})),
                   415, "unsupported_media_type")
    verify_only = onboard(xhttp, grant(services=["verify"]))
    denied = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=b'{"personal_id":"001099000003"}',
                        headers=bearer(verify_only.token(xhttp), **{"content-type": "application/x-ndjson"}))
    assert assert_problem(denied, 403, "policy_denied")["denials"][0]["rule"] == "service_not_allowed"


# -- stopping and taking over -----------------------------------------------------------------------------
@pytest.fixture
def paused_runner(exchange_app: FastAPI, database: Database) -> Iterator[list[int]]:
    """The live server's job runner kept off while the test runs: a submitted job waits (running, nothing done)
    and its scan claims nothing — the test runs the job as another process would.  Yields the jobs kicked.

    A job the test leaves running is finished here, before the runner comes back: left to the live runner it
    would write to the exchange log while later tests (the ledger's, which empty it) run."""
    with psycopg.connect(libpq_url(database.url)) as conn:
        row = conn.execute("SELECT coalesce(max(job_id), 0) FROM job").fetchone()
    before = int(row[0]) if row else 0
    runner = exchange_app.state.exchange.jobs
    loop = runner._scan.get_loop()
    kicked: list[int] = []
    runner.kick = kicked.append

    async def cancel_scan() -> None:
        runner._scan.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner._scan

    async def restart_scan() -> None:
        runner.start()

    asyncio.run_coroutine_threadsafe(cancel_scan(), loop).result(30)
    try:
        yield kicked
    finally:
        with psycopg.connect(libpq_url(database.url)) as conn:
            left = [job for (job,) in conn.execute(
                "SELECT job_id FROM job WHERE job_id > %s AND state = 'running' ORDER BY job_id", (before,))]
        for job in left:
            another_process(database, lambda rt, job=job: jobs.process(rt, job))
        del runner.kick
        asyncio.run_coroutine_threadsafe(restart_scan(), loop).result(30)


def another_process(database: Database, work: Callable[[Runtime], Awaitable[T]], *, runner: bool = False) -> T:
    """``work`` on an exchange runtime of its own (its pool, log writer — and, with ``runner``, its job runner
    scanning for stale jobs), on its own event loop: what a second ``dancu serve`` process has."""
    async def main() -> T:
        rt = Runtime.for_database(database)
        if runner:
            await rt.start()
        else:
            await rt.ledger.start()
        try:
            return await work(rt)
        finally:
            await rt.stop()

    return asyncio.run(main())


def job_row(database: Database, job_id: int) -> dict[str, Any]:
    with psycopg.connect(libpq_url(database.url)) as conn:
        row = conn.execute("SELECT state, done, total, checkpoint, error FROM job WHERE job_id = %s",
                           (job_id,)).fetchone()
    assert row is not None
    return dict(zip(("state", "done", "total", "checkpoint", "error"), row, strict=True))


def submit(xhttp: httpx.Client, system: System, lines: list[dict[str, Any]], correlation: str) -> int:
    body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    started = xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=body, headers=bearer(
        system.token(xhttp), **{"content-type": "application/x-ndjson", "X-Road-Id": correlation}))
    assert started.status_code == 202, started.text
    return int(started.json()["job_id"])


def claims(count: int, person: dict[str, Any], at: int) -> list[dict[str, Any]]:
    lines = [{"personal_id": f"0010990{n:05d}", "sex": "1"} for n in range(count)]
    lines[at - 1] = {"personal_id": person["personal_id"], "sex": person["sex"]}
    return lines


def logged_lines(database: Database, correlation: str) -> Counter[int]:
    return Counter(int(e["correlation_id"].rsplit(":", 1)[1]) for e in entries(database, correlation=correlation + ":"))


def test_a_job_whose_runner_died_is_taken_over_from_its_checkpoint(
        xhttp: httpx.Client, database: Database, paused_runner: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    system = onboard(xhttp, grant())
    person = resident(xhttp, sex="2")
    correlation = f"takeover-{uuid.uuid4()}"
    job_id = submit(xhttp, system, claims(2500, person, at=1500), correlation)
    assert paused_runner == [job_id]

    saved = []

    async def dies_before_saving_the_second_chunk(conn: Any, job: int, results: Any, done: int, at: Any) -> None:
        if saved:
            raise RuntimeError("the runner's process died here")
        saved.append(done)
        await save_results(conn, job, results, done, at)

    save_results = repository.save_results
    with monkeypatch.context() as patched:
        patched.setattr(repository, "save_results", dies_before_saving_the_second_chunk)
        with pytest.raises(RuntimeError, match="died here"):
            another_process(database, lambda rt: jobs.process(rt, job_id))
    crashed = job_row(database, job_id)
    assert (crashed["state"], crashed["done"], crashed["checkpoint"]) == ("running", 1000, {"line": 1000})
    assert set(logged_lines(database, correlation)) == set(range(1, 2001))  # chunk 2 logged, never saved

    with psycopg.connect(libpq_url(database.url)) as conn:  # a minute without progress: the job is stale
        conn.execute("UPDATE job SET updated_at = now() - interval '2 minutes' WHERE job_id = %s", (job_id,))

    async def until_done(rt: Runtime) -> dict[str, Any]:
        for _ in range(600):  # a guard, not a measure: the fresh runner's first scan claims the job at once
            row = job_row(database, job_id)
            if row["state"] != "running":
                return row
            await asyncio.sleep(0.1)
        raise AssertionError("the stale job was not taken over")

    finished = another_process(database, until_done, runner=True)
    assert (finished["state"], finished["done"], finished["error"]) == ("done", 2500, None)

    results = [orjson.loads(line) for line in xhttp.get(f"/exchange/v1/verify/jobs/{job_id}/results",
                                                        headers=bearer(system.token(xhttp))).text.splitlines()]
    assert [r["line"] for r in results] == list(range(1, 2501))
    assert results[1499]["match"] is True and results[1499]["personal_id"] == person["personal_id"]
    assert all(r["code"] == "resident_not_found" for i, r in enumerate(results) if i != 1499)
    times = logged_lines(database, correlation)  # the log may hold a line twice, never zero times
    assert {line for line, n in times.items() if n == 2} == set(range(1001, 2001))
    assert set(times) == set(range(1, 2501)) and max(times.values()) == 2
    seqs = {e["seq"]: int(e["correlation_id"].rsplit(":", 1)[1])
            for e in entries(database, correlation=correlation + ":")}
    assert all(seqs[r["log_seq"]] == r["line"] for r in results)  # each result names its own line's entry


def _suspend(xhttp: httpx.Client, system: System) -> None:
    response = xhttp.post(f"/agencies/systems/{system.identifier}/suspend", headers=ACTOR,
                          json={"reason": "Nghi vấn tra cứu hàng loạt trái mục đích"})
    assert response.status_code == 200, response.text


def _terminate(xhttp: httpx.Client, system: System) -> None:
    response = xhttp.post(f"/agencies/systems/{system.identifier}/terminate", headers=ACTOR,
                          json={"reason": "Chấm dứt kết nối"})
    assert response.status_code == 200, response.text


def _new_policy(database: Database, system: System, **grant_overrides: Any) -> None:
    with database.sessions.begin() as session:
        system_id = session.execute(text("SELECT system_id FROM information_system WHERE identifier = :i"),
                                    {"i": system.identifier}).scalar_one()
        fields = dict(services=frozenset({"verify", "retrieve"}), fields=frozenset(grant()["fields"]),
                      purposes=frozenset([PURPOSE]), daily_quota=100_000, rate_per_second=10_000)
        fields.update(grant_overrides)
        policy_service.activate(session, system_id, Grant(**fields), "tests", datetime.now(UTC))


CHANGES: dict[str, tuple[Callable[[httpx.Client, Database, System], None], str, str | None]] = {
    "suspended": (lambda h, d, s: _suspend(h, s), "stopped", "system_suspended"),
    "terminated": (lambda h, d, s: _terminate(h, s), "stopped", "system_terminated"),
    "policy_no_longer_allows": (lambda h, d, s: _new_policy(d, s), "stopped", "policy_denied"),
    "policy_changed_still_allows": (
        lambda h, d, s: _new_policy(d, s, services=frozenset({"verify", "batch_verify"}), daily_quota=50_000),
        "done", None),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_job_stops_at_the_next_chunk_when_its_system_or_policy_changes(
        xhttp: httpx.Client, database: Database, paused_runner: list[int], monkeypatch: pytest.MonkeyPatch,
        change: str) -> None:
    apply, state, error = CHANGES[change]
    system = onboard(xhttp, grant())
    person = resident(xhttp, sex="1")
    correlation = f"stop-{change}-{uuid.uuid4()}"
    job_id = submit(xhttp, system, claims(1500, person, at=1200), correlation)

    save_results = repository.save_results

    async def save_then_change(conn: Any, job: int, results: Any, done: int, at: Any) -> None:
        await save_results(conn, job, results, done, at)
        if done == 1000:  # between the first chunk and the second
            await asyncio.to_thread(apply, xhttp, database, system)

    monkeypatch.setattr(repository, "save_results", save_then_change)
    another_process(database, lambda rt: jobs.process(rt, job_id))
    row = job_row(database, job_id)
    assert (row["state"], row["error"]) == (state, error)
    assert row["done"] == (1000 if state == "stopped" else 1500)
    assert set(logged_lines(database, correlation)) == set(range(1, row["done"] + 1))  # nothing after the stop


def test_resuming_the_system_does_not_restart_its_stopped_job(
        xhttp: httpx.Client, database: Database, paused_runner: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A stopped job stays stopped: its results so far stay readable, the rest is a new job (see integrators.md)."""
    system = onboard(xhttp, grant())
    person = resident(xhttp, sex="1")
    correlation = f"resume-{uuid.uuid4()}"
    job_id = submit(xhttp, system, claims(1500, person, at=200), correlation)
    token = system.token(xhttp)  # a suspended system gets no new token; the one it holds is refused
    _suspend(xhttp, system)
    another_process(database, lambda rt: jobs.process(rt, job_id))
    assert job_row(database, job_id)["state"] == "stopped"
    assert_problem(xhttp.get(f"/exchange/v1/verify/jobs/{job_id}", headers=bearer(token)), 403, "system_suspended")

    resumed = xhttp.post(f"/agencies/systems/{system.identifier}/resume", headers=ACTOR, json={"reason": "Đã rõ"})
    assert resumed.status_code == 200, resumed.text
    with psycopg.connect(libpq_url(database.url)) as conn:  # however stale, a stopped job is not taken over
        conn.execute("UPDATE job SET updated_at = now() - interval '2 minutes' WHERE job_id = %s", (job_id,))
    another_process(database, lambda rt: jobs.process(rt, job_id))
    assert another_process(database, _claim) != job_id
    view = xhttp.get(f"/exchange/v1/verify/jobs/{job_id}", headers=bearer(system.token(xhttp))).json()
    assert (view["state"], view["done"], view["error"]) == ("stopped", 0, "system_suspended")
    assert logged_lines(database, correlation) == Counter()
    again = submit(xhttp, system, claims(1500, person, at=200), f"{correlation}-again")  # the way on: a new job
    assert again != job_id


async def _claim(rt: Runtime) -> int | None:
    async with rt.pool.connection() as conn:
        return await repository.claim_stale_job(conn, jobs.STALE_SECONDS)
