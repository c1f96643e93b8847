"""The review queue: list, accept (applies with history), reject (with a note) — service and HTTP."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dancu.db import Database
from dancu.registry.models import Resident, ResidentSectorIdHistory
from dancu.sync import jobs, service, testdata
from dancu.sync.errors import ReviewClosed, ReviewItemNotFound
from dancu.sync.sources import Source
from tests.operators.accounts import auth
from tests.sync.conftest import WriteFile


def _conflict(database: Database, population: list[testdata.TrueResident], source: Source,
              write_file: WriteFile, pick: int) -> tuple[testdata.Labelled, int]:
    """A resident linked with one value, then a file claiming another: one open review item."""
    import random

    item = testdata.record(random.Random(0), population[pick], "clean", source)
    jobs.run(database, source, write_file(source, [item], ".csv"))
    other = testdata.Labelled({**item.values, source.identifier_column: "9999999999"}, item.resident_id, "clean")
    return item, jobs.run(database, source, write_file(source, [other], ".csv")).job_id


def test_list_filters_and_accept_applies_with_history(database: Database, session: Session,
                                                      population: list[testdata.TrueResident], source: Source,
                                                      write_file: WriteFile) -> None:
    item, job_id = _conflict(database, population, source, write_file, 100)
    page = service.list_reviews(session, job_id=job_id)
    (open_item,) = page.items
    assert open_item.id == f"{job_id}-2" and "sector_id_conflict" in open_item.reasons
    assert open_item.detail["existing"] == item.values[source.identifier_column]
    assert service.list_reviews(session, source=source.code, reason="sector_id_conflict").items == [open_item]
    assert service.list_reviews(session, source=source.code, reason="name_mismatch").items == []
    accepted = service.accept(session, open_item.id, actor="officer-7", note="BHXH confirmed the new card")
    assert (accepted.state, accepted.reviewed_by) == ("accepted", "officer-7")
    resident = session.get(Resident, item.resident_id)
    assert resident is not None and resident.sector_ids[source.sector_key] == "9999999999"
    assert resident.sector_provenance[f"sector_ids.{source.sector_key}"]["line_no"] == 2
    (old,) = session.scalars(select(ResidentSectorIdHistory).where(
        ResidentSectorIdHistory.resident_id == item.resident_id,
        ResidentSectorIdHistory.sector_key == source.sector_key)).all()
    assert (old.value, old.replaced_by) == (item.values["ma_so"], "officer-7")
    assert old.reason == "BHXH confirmed the new card"
    with pytest.raises(ReviewClosed):
        service.reject(session, open_item.id, actor="officer-8")


def test_reject_leaves_the_resident_unchanged(database: Database, session: Session,
                                              population: list[testdata.TrueResident], source: Source,
                                              write_file: WriteFile) -> None:
    item, job_id = _conflict(database, population, source, write_file, 101)
    rejected = service.reject(session, f"{job_id}-2", actor="officer-7", note="card of the brother")
    assert (rejected.state, rejected.note) == ("rejected", "card of the brother")
    resident = session.get(Resident, item.resident_id)
    assert resident is not None
    assert resident.sector_ids[source.sector_key] == item.values["ma_so"]
    with pytest.raises(ReviewItemNotFound):
        service.accept(session, "nonsense", actor="x")


def test_http_review_and_report(database: Database, http: httpx.Client, population: list[testdata.TrueResident],
                                source: Source, write_file: WriteFile) -> None:
    _, job_id = _conflict(database, population, source, write_file, 102)
    http.headers.update(auth("officer-9"))  # a reviewer
    report = http.get(f"/sync/jobs/{job_id}").json()
    assert report["outcomes"] == {"review": 1} and report["state"] == "done"
    listed = http.get("/sync/review", params={"job": job_id}).json()
    assert [i["id"] for i in listed["items"]] == [f"{job_id}-2"]
    answer = http.post(f"/sync/review/{job_id}-2/reject", json={"note": "no"})
    assert answer.status_code == 200 and answer.json()["reviewed_by"] == "officer-9"
    again = http.post(f"/sync/review/{job_id}-2/accept")
    assert again.status_code == 409 and again.json()["code"] == "sync_review_closed"
    assert http.get("/sync/jobs/999999999").status_code == 404
    assert http.post("/sync/review/1-999999999/accept").status_code == 404
    assert http.get("/sync/review", params={"reason": "x\x00"}).status_code == 422


def test_the_report_of_a_job_recorded_without_a_file_is_answered(database: Database, http: httpx.Client) -> None:
    """Stage-(b) jobs made in tests (and any job row without ``file``) are reported, not a 500 (the contract fuzzer
    found one when it picked such a job's number)."""
    import orjson

    with database.raw_connection() as conn:
        row = conn.execute("""INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report)
                              VALUES ('test:no-file', 'sync', %s, 'done', 0, 0, '{}', '{}')
                              ON CONFLICT (job_key) DO UPDATE SET state = 'done' RETURNING job_id""",
                           (orjson.dumps({"source": "bhyt", "sector_key": "k"}).decode(),)).fetchone()
        conn.commit()
    assert row is not None
    http.headers.update(auth("officer-9"))
    report = http.get(f"/sync/jobs/{row[0]}")
    assert report.status_code == 200, report.text
    assert (report.json()["file"], report.json()["source"], report.json()["records"]) == (None, "bhyt", 0)
