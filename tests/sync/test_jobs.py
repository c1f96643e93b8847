"""Stage (a) end to end on the real database: outcomes per noise kind, apply with history, conflicts,
idempotence, crash-and-resume, and the registry's as-of reading of synchronised records."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dancu.db import Database
from dancu.registry import queries
from dancu.sync import jobs, testdata
from dancu.sync.sources import Source
from tests.sync.conftest import WriteFile, new_source


class Crash(RuntimeError):
    pass


def _records(database: Database, job_id: int) -> dict[int, tuple[Any, ...]]:
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT line_no, outcome, resident_id, reasons FROM sync_record WHERE job_id = :j"),
                            {"j": job_id})
        return {r.line_no: (r.outcome, r.resident_id, tuple(r.reasons)) for r in rows}


def _values(database: Database, key: str) -> dict[int, str]:
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT resident_id, sector_ids ->> :k FROM resident WHERE sector_ids ? :k"),
                            {"k": key})
        return {rid: value for rid, value in rows}


def _history(database: Database, source: Source) -> list[tuple[Any, ...]]:
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT resident_id, version, changes FROM resident_change WHERE actor = :a "
                                 "ORDER BY resident_id, version"), {"a": f"sync:{source.code}"})
        return [tuple(r) for r in rows]


def _one(population: list[testdata.TrueResident], source: Source, kind: str,
         pick: int = 0) -> testdata.Labelled:
    rng = random.Random(pick)
    for resident in population[pick:]:
        item = testdata.record(rng, resident, kind, source)
        if item.noise == kind:
            return item
    raise AssertionError(f"no resident fits {kind}")


@pytest.mark.parametrize(("kind", "outcome", "reason"), [
    ("clean", "linked", None),
    ("no_diacritics", "linked", None),
    ("old_tone", "linked", None),
    ("vu_vo", "linked", None),
    ("hoang_huynh", "linked", None),
    ("drop_middle", "linked", None),
    ("reversed", "linked", None),
    ("dob_year_only", "linked", None),
    ("dob_swapped", "linked", None),
    ("old_province", "linked", "province_old_code"),
    ("id_missing", "unmatched_id", "id_missing"),
    ("id_relative", "review", "name_mismatch"),
])
def test_each_noise_kind_ends_as_expected(database: Database, population: list[testdata.TrueResident],
                                          source: Source, write_file: WriteFile, kind: str, outcome: str,
                                          reason: str | None) -> None:
    item = _one(population, source, kind)
    result = jobs.run(database, source, write_file(source, [item], ".csv"))
    (_line_no, (got, resident_id, reasons)), = _records(database, result.job_id).items()
    assert got == outcome, reasons
    assert reason is None or reason in reasons
    if outcome == "linked":
        assert resident_id == item.resident_id
        assert _values(database, source.sector_key) == {item.resident_id: testdata.identifier(source,
                                                                                              item.resident_id)}
    else:
        assert _values(database, source.sector_key) == {}


def test_mistyped_ids_never_link_to_someone_else(database: Database, population: list[testdata.TrueResident],
                                                 source: Source, write_file: WriteFile) -> None:
    rng = random.Random(5)
    items = [testdata.record(rng, r, kind, source) for r in population[:300] for kind in ("id_digit", "id_swap")]
    result = jobs.run(database, source, write_file(source, items, ".jsonl"))
    records = _records(database, result.job_id)
    assert {outcome for outcome, _, _ in records.values()} <= {"unmatched_id", "review"}
    assert _values(database, source.sector_key) == {}
    unmatched = [reasons for outcome, _, reasons in records.values() if outcome == "unmatched_id"]
    assert unmatched and all("id_not_found" in reasons for reasons in unmatched)


def test_malformed_lines_are_rejected_with_a_reason(database: Database, population: list[testdata.TrueResident],
                                                    source: Source, tmp_path: Path) -> None:
    good = population[0]
    path = tmp_path / "bad.csv"
    path.write_text(
        "so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,ma_tinh,ma_so\n"
        f"{good.personal_id},{good.full_name},31/02/1990,Nam,01,1234567890\n"
        f"{good.personal_id},,01/01/1990,Nam,01,1234567890\n"
        f"{good.personal_id},{good.full_name},01/01/1990,Nam,01,12\n"
        "only,three,columns\n"
        f"{good.personal_id},{good.full_name},01/01/1990,Nam,01,\n", encoding="utf-8")
    result = jobs.run(database, source, path)
    records = _records(database, result.job_id)
    assert {line: (outcome, reasons) for line, (outcome, _, reasons) in records.items()} == {
        2: ("rejected", ("date_of_birth_invalid",)), 3: ("rejected", ("name_missing",)),
        4: ("rejected", ("identifier_malformed",)), 5: ("rejected", ("wrong_column_count",)),
        6: ("rejected", ("identifier_missing",)),
    }
    assert result.report["outcomes"] == {"rejected": 5}


def test_a_different_existing_value_goes_to_review_and_is_never_overwritten(
        database: Database, population: list[testdata.TrueResident], source: Source, write_file: WriteFile) -> None:
    item = _one(population, source, "clean", pick=10)
    jobs.run(database, source, write_file(source, [item], ".csv"))
    other = testdata.Labelled({**item.values, source.identifier_column: "9999999999"}, item.resident_id, "clean")
    same_again = testdata.Labelled(dict(item.values), item.resident_id, "clean")
    result = jobs.run(database, source, write_file(source, [other, same_again], ".csv"))
    records = _records(database, result.job_id)
    assert records[2][0] == "review" and "sector_id_conflict" in records[2][2]
    assert records[3][0] == "linked"
    assert _values(database, source.sector_key) == {item.resident_id: item.values[source.identifier_column]}
    assert len(_history(database, source)) == 1


def test_two_lines_for_one_resident_in_a_chunk_link_once_and_flag_the_disagreement(
        database: Database, population: list[testdata.TrueResident], source: Source, write_file: WriteFile) -> None:
    item = _one(population, source, "clean", pick=20)
    other = testdata.Labelled({**item.values, source.identifier_column: "9999999999"}, item.resident_id, "clean")
    result = jobs.run(database, source, write_file(source, [item, other], ".csv"))
    records = _records(database, result.job_id)
    assert records[2][0] == "linked"
    assert records[3][0] == "review" and "duplicate_in_file" in records[3][2]
    assert len(_history(database, source)) == 1


def test_history_row_and_provenance_and_as_of(database: Database, population: list[testdata.TrueResident],
                                              source: Source, write_file: WriteFile) -> None:
    item = _one(population, source, "clean", pick=30)
    resident = next(r for r in population if r.resident_id == item.resident_id)
    before = datetime.now(UTC)
    time.sleep(0.01)
    result = jobs.run(database, source, write_file(source, [item], ".csv"))
    (rid, version, changes), = _history(database, source)
    value = item.values[source.identifier_column]
    assert rid == item.resident_id and version >= 2
    old, new = changes["sector_ids"]
    assert source.sector_key not in old and new[source.sector_key] == value
    with database.sessions() as session:
        now = queries.read_resident(session, resident.personal_id)
        then = queries.read_resident(session, resident.personal_id, as_of=before)
        assert now.resident.fields["sector_ids"][source.sector_key] == value
        assert source.sector_key not in (then.resident.fields["sector_ids"] or {})
        stamp = now.resident.provenance[f"sector_ids.{source.sector_key}"]
        assert stamp["source"] == f"sync:{source.code}:{result.job_id}"
        assert now.history[-1].kind == "synchronised"


def test_running_the_same_file_twice_changes_nothing(database: Database, population: list[testdata.TrueResident],
                                                    source: Source, write_file: WriteFile) -> None:
    items = list(testdata.generate(population[:400], source, seed=1))
    path = write_file(source, items, ".csv")
    first = jobs.run(database, source, path, chunk_size=150)
    state = (_records(database, first.job_id), _values(database, source.sector_key), _history(database, source))
    second = jobs.run(database, source, path, chunk_size=150)
    assert second.already_done and second.job_id == first.job_id and second.records == 0
    copy = path.with_name("copy-" + path.name)
    copy.write_bytes(path.read_bytes())
    assert jobs.run(database, source, copy).already_done  # same content elsewhere: same job
    assert (_records(database, first.job_id), _values(database, source.sector_key),
            _history(database, source)) == state
    assert first.report["records"] == 400 and sum(first.report["outcomes"].values()) == 400


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_crash_mid_file_then_rerun_equals_an_uninterrupted_run(
        database: Database, population: list[testdata.TrueResident], write_file: WriteFile, suffix: str) -> None:
    crashed, clean_run = new_source(), new_source()
    items = list(testdata.generate(population[400:1400], crashed, seed=2, noise_rate=0.5))
    path = write_file(crashed, items, suffix)

    def crash_after_2(number: int) -> None:
        if number == 2:
            raise Crash

    with pytest.raises(Crash):
        jobs.run(database, crashed, path, chunk_size=128, after_chunk=crash_after_2)
    partial = jobs.run(database, crashed, path, chunk_size=128)
    assert partial.chunks == 8 - 3 and partial.records == 1000 - 3 * 128
    reference = jobs.run(database, clean_run, path, chunk_size=128)
    assert _records(database, partial.job_id) == _records(database, reference.job_id)
    assert _values(database, crashed.sector_key) == _values(database, clean_run.sector_key)
    assert [(r, c["sector_ids"][1][crashed.sector_key]) for r, _, c in _history(database, crashed)] == [
        (r, c["sector_ids"][1][clean_run.sector_key]) for r, _, c in _history(database, clean_run)]
    assert partial.report["outcomes"] == reference.report["outcomes"]
    assert sum(partial.report["outcomes"].values()) == 1000
