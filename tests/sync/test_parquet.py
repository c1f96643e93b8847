"""Parquet input: the same records as in CSV give the same outcomes, links, reports and log entries; typed
columns (integers, dates, timestamps, nulls) read as a CSV file writes them; nested columns are refused before
anything starts; resume cuts the same chunks; memory does not grow with the file."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from dancu.db import Database
from dancu.sync import checkpoints, chunks, jobs, parquet, testdata
from dancu.sync.errors import NoKnownColumn, UnreadableFile, UnsupportedColumn
from dancu.sync.sources import Source
from tests.sync.conftest import WriteFile, new_source
from tests.sync.test_jobs import _records, _values
from tests.sync.test_kill import _toml


def _log(database: Database, source: Source, job_id: int) -> list[tuple[str, Any]]:
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT purpose, result FROM ledger_entry WHERE client_system = :c"),
                            {"c": f"sync:{source.code}"}).all()
    return sorted((r.purpose.replace(f"job {job_id} ", ""), r.result) for r in rows)


def _details(database: Database, job_id: int) -> dict[int, Any]:
    with database.engine.connect() as conn:
        return dict(conn.execute(text("SELECT line_no, detail FROM sync_record WHERE job_id = :j"),
                                 {"j": job_id}).all())


def _same_run(database: Database, a: tuple[Source, jobs.RunResult], b: tuple[Source, jobs.RunResult]) -> None:
    (sa, ra), (sb, rb) = a, b
    assert _records(database, ra.job_id) == _records(database, rb.job_id)
    assert _details(database, ra.job_id) == _details(database, rb.job_id)
    assert _values(database, sa.sector_key) == _values(database, sb.sector_key)
    for key in ("records", "chunks", "outcomes", "reasons", "linked_applied"):
        assert ra.report[key] == rb.report[key], key
    assert _log(database, sa, ra.job_id) == _log(database, sb, rb.job_id)


def test_a_parquet_file_gives_what_the_same_records_in_csv_give(
        database: Database, population: list[testdata.TrueResident], tmp_path: Path) -> None:
    as_csv, as_parquet = new_source(), new_source()
    items = list(testdata.generate(population[:700], as_csv, seed=21, noise_rate=0.6, extra_rate=0.3,
                                   absent_rate=0.03))
    items += items[:5]  # the same people again: duplicates in the file
    testdata.write(csv_path := tmp_path / "f.csv", as_csv, items)
    testdata.write(parquet_path := tmp_path / "f.parquet", as_parquet, items, row_group=130)  # not chunk-aligned
    runs = [(s, jobs.run(database, s, p, chunk_size=97, workers=1))
            for s, p in ((as_csv, csv_path), (as_parquet, parquet_path))]
    _same_run(database, *runs)
    assert runs[1][1].report["records"] == 705 and runs[1][1].fast_linked > 100 and runs[1][1].slow_chunks == 0


def _typed(population: list[testdata.TrueResident]) -> tuple[list[testdata.TrueResident], dict[str, pa.Array]]:
    """Residents with a full date of birth (some of whose IDs begin with 0), as typed Parquet columns."""
    people = [r for r in population[:400] if r.dob[1] and r.dob[2]][:120]
    assert any(r.personal_id.startswith("0") for r in people)
    names: list[str | None] = [r.full_name for r in people]
    names[3] = None
    return people, {
        "so_dinh_danh": pa.array([int(r.personal_id) for r in people], pa.int64()),
        "ho_ten": pa.array(names, pa.string()),
        "ngay_sinh": pa.array([dt.date(*r.dob) for r in people], pa.date32()),  # type: ignore[misc]
        "gioi_tinh": pa.array([int(r.sex) for r in people], pa.int8()),
        "ma_so": pa.array([1_000_000_000 + r.resident_id for r in people], pa.int64()),
    }  # no ma_tinh: a missing column


def test_integer_date_timestamp_and_null_columns_read_as_their_csv_text(
        database: Database, population: list[testdata.TrueResident], tmp_path: Path) -> None:
    people, columns = _typed(population)
    csv_path = tmp_path / "typed.csv"
    lines = ["so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,ma_so"]
    for n, r in enumerate(people):
        year, month, day = r.dob
        lines.append(f"{r.personal_id},{'' if n == 3 else r.full_name},{year:04d}-{month:02d}-{day:02d},{r.sex},"
                     f"{1_000_000_000 + r.resident_id}")
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pq.write_table(pa.table(columns), dated := tmp_path / "dated.parquet", row_group_size=50)
    zone = dt.timezone(dt.timedelta(hours=7))
    stamps = [dt.datetime(*r.dob, tzinfo=zone) for r in people]  # type: ignore[misc]
    columns["ngay_sinh"] = pa.array(stamps, pa.timestamp("us", tz="Asia/Ho_Chi_Minh"))
    pq.write_table(pa.table(columns), stamped := tmp_path / "stamped.parquet")
    runs = [(s, jobs.run(database, s, p, chunk_size=40)) for s, p in
            ((new_source(), csv_path), (new_source(), dated), (new_source(), stamped))]
    _same_run(database, runs[0], runs[1])
    _same_run(database, runs[0], runs[2])
    report = runs[1][1].report
    assert report["outcomes"] == {"linked": 119, "rejected": 1}, report
    assert report["reasons"] == {"rejected:name_missing": 1}  # IDs padded back to 12 digits, dates as dates
    assert runs[1][1].fast_linked == 119


def test_values_with_newlines_nuls_and_bad_utf8_keep_their_record_numbers(
        database: Database, population: list[testdata.TrueResident], source: Source, tmp_path: Path) -> None:
    a, b, c, d = population[50:54]
    path = tmp_path / "odd.parquet"
    pq.write_table(pa.table({
        "so_dinh_danh": [r.personal_id for r in (a, b, c, d)],
        "ho_ten": pa.array([a.full_name.encode(), f"{b.full_name}\nbis".encode(), c.full_name.encode(),
                            b"\xff\xfe"], pa.binary()),
        "ngay_sinh": [str(r.dob[0]) for r in (a, b, c, d)],
        "ma_so": ["1234567890", "1234567891", "12345678\x0092", "1234567893"],
    }), path)
    result = jobs.run(database, source, path, chunk_size=10)
    assert result.slow_chunks == 1
    records = _records(database, result.job_id)
    assert records[2] == ("linked", a.resident_id, ())
    assert records[3][0] == "review" and "name_mismatch" in records[3][2]  # the name holds a newline and "bis"
    assert records[4] == ("rejected", None, ("nul_character",))
    assert records[5] == ("rejected", None, ("invalid_utf8",))


def test_nested_columns_the_source_reads_are_refused_before_anything_starts(
        database: Database, population: list[testdata.TrueResident], source: Source, tmp_path: Path) -> None:
    people = population[60:63]
    base = {"so_dinh_danh": [r.personal_id for r in people], "ma_so": ["1234567890"] * 3,
            "dia_chi": pa.array([{"xa": "x", "tinh": "01"}] * 3)}  # nested, but not read: ignored
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({**base, "ho_ten": pa.array([[r.full_name] for r in people])}), nested)
    with pytest.raises(UnsupportedColumn) as raised:
        jobs.run(database, source, nested)
    problem = raised.value.problem()
    assert (problem["status"], problem["code"], problem["column"]) == (422, "sync_unsupported_column", "ho_ten")
    assert problem["type"] == "/problems/sync_unsupported_column" and "list" in problem["column_type"]
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM job WHERE params ->> 'source' = :s"),
                            {"s": source.code}).scalar_one() == 0
    flat = tmp_path / "flat.parquet"
    pq.write_table(pa.table({**base, "ho_ten": [r.full_name for r in people]}), flat)
    assert jobs.run(database, source, flat).report["records"] == 3


def test_unreadable_and_columnless_files_are_refused(source: Source, database: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not a Parquet file")
    with pytest.raises(UnreadableFile):
        jobs.run(database, source, bad)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), other)
    with pytest.raises(NoKnownColumn):
        jobs.run(database, source, other)


def test_the_cli_answers_a_nested_column_with_its_problem_code(database_url: str, tmp_path: Path) -> None:
    source = new_source()
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"ho_ten": pa.array([["An"]]), "ma_so": ["1234567890"]}), path)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dancu")), "sync", "run", source.code, str(path), "--sources",
         str(_toml(tmp_path / "s.toml", source)), "--no-progress"],
        env={**os.environ, "DANCU_DATABASE_URL": database_url, "COLUMNS": "200"}, capture_output=True, timeout=120)
    assert done.returncode == 2, done.stderr
    said = done.stdout + done.stderr
    assert b"sync_unsupported_column" in said and b"ho_ten" in said


def _people(n: int) -> list[testdata.Labelled]:
    return [testdata.Labelled({"so_dinh_danh": f"{i:012d}", "ho_ten": f"Nguyễn Văn An {i % 3000}",
                               "ngay_sinh": "12/04/1985", "gioi_tinh": "Nam", "ma_tinh": "01",
                               "ma_so": f"{i:010d}"}, 0, "clean") for i in range(n)]


@pytest.mark.parametrize(("row_group", "size"), [(7, 3), (5, 5), (4, 11), (100, 6)])
def test_a_resumed_read_cuts_the_chunks_an_uninterrupted_one_does(tmp_path: Path, row_group: int,
                                                                   size: int) -> None:
    source = new_source()
    path = tmp_path / "f.parquet"
    testdata.write(path, source, _people(40), row_group=row_group)
    file = chunks.open_input(path, ["so_dinh_danh", "ho_ten", "ma_so"])
    whole = list(file.chunks(checkpoints.START, size))
    assert [c.lines for c in whole] == [size] * (40 // size) + ([40 % size] if 40 % size else [])
    assert all(b.first_line == a.end_line + 1 and b.end_offset == a.end_offset + b.lines
               for a, b in itertools.pairwise(whole))
    point = checkpoints.START
    for done in whole[:3]:
        point = checkpoints.advance(point, done.number, (done.end_offset, done.end_line))
    assert list(file.chunks(point, size)) == whole[3:]
    assert whole[-1].end_offset == file.extent == 40 and whole[0].first_line == 2


def test_head_records_reads_the_first_records_as_the_stage_does(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"so_dinh_danh": pa.array([1085012345, None, 3]), "ho_ten": ["An", "", "Ba"]}), path)
    got = list(parquet.head_records(path, ("so_dinh_danh", "ho_ten", None, "absent"), 2, "so_dinh_danh"))
    assert got == [(2, ("001085012345", "An", None, None)), (3, (None, None, None, None))]


def _peak(path: Path, rows: int) -> tuple[int, int]:
    """(tracemalloc peak, Arrow memory pool peak) reading ``path`` chunk by chunk."""
    testdata.write(path, new_source(), _people(rows), row_group=5_000)
    pool = pa.proxy_memory_pool(pa.default_memory_pool())
    default = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    tracemalloc.start()
    try:
        file = chunks.open_input(path, list(_people(1)[0].values))
        count = sum(c.lines for c in file.chunks(checkpoints.START, 2_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(default)
    assert count == rows
    return peak, pool.max_memory()


def test_memory_stays_bounded_whatever_the_file_size(tmp_path: Path) -> None:
    small = _peak(tmp_path / "small.parquet", 20_000)
    big = _peak(tmp_path / "big.parquet", 80_000)  # 4 times the file, the same memory
    assert big[0] < small[0] * 1.2 + 200_000, (small, big)
    assert big[1] < small[1] * 1.2 + 200_000, (small, big)
    assert big[0] < 3_000_000 and big[1] < 8_000_000, big


def test_model_training_reads_the_same_first_records_from_parquet_as_from_csv(
        population: list[testdata.TrueResident], source: Source, write_file: WriteFile) -> None:
    from dancu.sync.matching import sample

    items = list(testdata.generate(population[:120], source, seed=21, noise_rate=0.4))
    columns = source.input_columns()
    def read(suffix: str) -> list[tuple[int, tuple[str | None, ...]]]:  # empty and absent both mean "not given"
        path = write_file(source, items, suffix)
        return [(line, tuple(v or None for v in values)) for line, values in sample.head_records(path, columns, 100)]

    from_csv = read(".csv")
    assert len(from_csv) == 100 and read(".parquet") == from_csv
