"""The SQL pipeline's pieces: chunk boundaries, the SQL twins of the Python normalisation, the line-by-line
slow path, and ``links.apply_links`` for stage (b)."""

from __future__ import annotations

import csv
import io
import itertools
import random
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.db import Database
from dancu.kit.text import clean, fold
from dancu.sync import chunk_sql, chunks, jobs, links, testdata
from dancu.sync.matching.names import loose_key
from dancu.sync.matching.records import Normaliser
from dancu.sync.sources import Source
from tests.sync.conftest import WriteFile, new_source

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
LETTERS = VIETNAMESE + VIETNAMESE.upper() + "ÐðƉɖ"
NAMES = st.text(alphabet=st.sampled_from(LETTERS + "  \t\u0301\u0300"), max_size=30)
FIELD = st.text(alphabet=st.sampled_from('ab,"\n xy'), max_size=8)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(FIELD, min_size=3, max_size=3), min_size=1, max_size=30),
       size=st.integers(min_value=1, max_value=7))
def test_chunks_end_on_record_boundaries_and_cover_the_file(tmp_path_factory: object, rows: list[list[str]],
                                                            size: int) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows([["a", "b", "c"], *rows])
    path = Path(str(tmp_path_factory.mktemp("chunks"))) / "f.csv"  # type: ignore[attr-defined]
    path.write_bytes(buffer.getvalue().encode())
    names, start = chunks.csv_header(path)
    assert names == ["a", "b", "c"]
    parts = list(chunks.chunks(path, start, 1, size))
    assert b"".join(p.data for p in parts) == path.read_bytes()[start:]
    parsed = [row for p in parts for row in csv.reader(io.StringIO(p.data.decode(), newline=""))]
    assert parsed == rows
    pairs = itertools.pairwise(parts)
    assert all(b.first_line == a.end_line + 1 and b.number == a.number + 1 for a, b in pairs)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_sql_clean_and_fold_equal_python(session: Session, name: str) -> None:
    got = session.execute(text("SELECT sync_clean(:n), sync_fold(:n), sync_name_loose(sync_fold(:n))"),
                          {"n": name}).one()
    assert tuple(got) == (clean(name), fold(name), loose_key(fold(name)))


def _usual_writings(day: int | None, month: int | None, year: int) -> set[str]:
    if day is not None and month is not None:
        return {f"{day:02d}/{month:02d}/{year}", f"{year}-{month:02d}-{day:02d}"}
    if month is not None:
        return {f"{month:02d}/{year}", f"{year}-{month:02d}"}
    return {str(year)}


WRITTEN = st.text(alphabet=st.sampled_from("0123456789/-. "), max_size=11)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.none() | st.integers(1, 31), month=st.none() | st.integers(1, 12), year=st.integers(1900, 2100),
       pick=st.integers(0, 1), noise=st.none() | WRITTEN)
def test_the_fast_date_test_accepts_exactly_the_usual_writings(session: Session, day: int | None,
                                                              month: int | None, year: int, pick: int,
                                                              noise: str | None) -> None:
    """The fast statement's date test holds exactly when the record writes the resident's date in one of the
    usual ways (anything else is left to the full judgement)."""
    day = day if month is not None else None
    usual = sorted(_usual_writings(day, month, year))
    written = noise if noise is not None else usual[pick % len(usual)]
    got = session.execute(text(f"SELECT coalesce(s.dob IN ({chunk_sql._renderings()}), false) "
                               "FROM (SELECT CAST(:dob AS text) AS dob) s, "
                               "(SELECT CAST(:d AS int) AS dob_day, CAST(:m AS int) AS dob_month, "
                               "CAST(:y AS int) AS dob_year) r"),
                          {"dob": written, "d": day, "m": month, "y": year}).scalar_one()
    assert got == (written in usual)


DATES = ["1985-04-12", "12/04/1985", "04/1985", "1985", "1985-25-04", "04/25/1985", "31/02/1990", "hôm qua",
         "1985-13-13", "29/02/2000", "29/02/1900", "1.2.1985", "7-3-1985", " 1985 ", "", "1899", "2101", "12/1985"]
SEXES = ["Nam", "Nữ", "nu", "M", "F", "1", "2", "x", ""]
PROVINCES = ["01", "1", "79", "99", "", "28", "ab"]


def test_sql_normalisation_equals_the_python_normaliser(database: Database, source: Source,
                                                         write_file: WriteFile) -> None:
    """Records that match nobody keep their normalised fields in detail.record: compare them with
    ``matching.records.Normaliser`` (the Python reference) on a seeded mix of every format."""
    rng = random.Random(11)
    items = []
    for _ in range(300):
        pid = rng.choice(["", "999 185 012 345", "99918501234", "999.085.012.345", "999285012345", "x"])
        values = {"so_dinh_danh": pid, "ho_ten": rng.choice(["  Nguyễn  Văn An ", "Võ Thị Thuỷ", "", "Đặng Quốc"]),
                  "ngay_sinh": rng.choice(DATES), "gioi_tinh": rng.choice(SEXES), "ma_tinh": rng.choice(PROVINCES),
                  "ma_so": rng.choice(["1234567890", "12", "", "ABCDEFGHIJ12"])}
        items.append(testdata.Labelled(values, 0, "clean"))
    result = jobs.run(database, source, write_file(source, items, ".csv"))
    provinces = jobs._province_table(database)
    normalise = Normaliser(source, lambda c: (provinces.get(c.zfill(2) if c.isdigit() and len(c) < 2 else c,
                                                            (None, "province_unknown"))))
    with database.engine.connect() as conn:
        rows = {r.line_no: r for r in conn.execute(text(
            "SELECT line_no, outcome, reasons, detail FROM sync_record WHERE job_id = :j"), {"j": result.job_id})}
    assert len(rows) == 300
    for line_no, item in enumerate(items, start=2):
        staged = normalise(tuple(item.values[c] if c else None for c in source.input_columns()))
        row = rows[line_no]
        if staged.problems:
            assert (row.outcome, set(row.reasons)) == ("rejected", set(staged.problems)), (item.values, row)
            continue
        record = row.detail["record"]
        year, month, day = staged.dob or (None, None, None)
        expected = {"personal_id": staged.personal_id, "full_name": staged.full_name,
                    "name_folded": staged.name_folded, "name_loose": staged.name_loose, "dob_year": year,
                    "dob_month": month, "dob_day": day, "sex": staged.sex, "province": staged.province,
                    "sector_value": staged.sector_value}
        assert {k: record[k] for k in expected} == expected, item.values
        notes = {n for n in staged.notes if n}
        assert notes <= set(row.reasons), (item.values, row.reasons)


def test_records_spanning_lines_and_bad_lines_take_the_slow_path(
        database: Database, population: list[testdata.TrueResident], source: Source, tmp_path: Path) -> None:
    good = population[0]
    other = population[1]
    path = tmp_path / "slow.csv"
    path.write_bytes(
        "so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,ma_tinh,ma_so\n"
        f'{good.personal_id},"{good.full_name}\nbis",1990,Nam,01,1234567890\n'.encode()
        + b"\xff\xfe,x,1990,Nam,01,1234567891\n"
        + f"{other.personal_id},{other.full_name},1990,Nam,01\x00,1234567892\n".encode())
    result = jobs.run(database, source, path, chunk_size=10)
    assert result.slow_chunks == 1
    with database.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT line_no, reasons FROM sync_record WHERE job_id = :j"),
                                 {"j": result.job_id}).all())
    assert rows[4] == ["invalid_utf8"] and rows[5] == ["nul_character"]
    assert "name_mismatch" in rows[2]  # the name now holds a newline and "bis": a record starting on line 2


def test_apply_links_adds_new_values_and_turns_conflicts_into_review(
        database: Database, population: list[testdata.TrueResident], source: Source, write_file: WriteFile) -> None:
    first, second, third = population[40:43]
    rng = random.Random(1)
    items = [testdata.record(rng, r, "id_missing", source) for r in (first, second, second, third)]
    result = jobs.run(database, source, write_file(source, items, ".csv"))
    with database.raw_connection() as conn:
        conn.execute("INSERT INTO resident_sector_id (resident_id, sector_key, value, source, linked_at) "
                     "VALUES (%s, %s, 'OTHER00001', 'registry', now())", (third.resident_id, source.sector_key))
        conn.execute("UPDATE sync_record SET outcome = 'linked', resident_id = CASE line_no WHEN 2 THEN %s "
                     "WHEN 5 THEN %s ELSE %s END WHERE job_id = %s",
                     (first.resident_id, third.resident_id, second.resident_id, result.job_id))
        conn.execute("UPDATE sync_record SET sector_value = 'OTHER00002' WHERE job_id = %s AND line_no = 4",
                     (result.job_id,))
        counts = links.apply_links(conn, result.job_id, [2, 3, 4, 5])
        again = links.apply_links(conn, result.job_id, [2, 3, 4, 5])
        outcomes = dict(conn.execute("SELECT line_no, outcome FROM sync_record WHERE job_id = %s",
                                     (result.job_id,)).fetchall())
        values = dict(conn.execute("SELECT resident_id, value FROM resident_sector_id WHERE sector_key = %s",
                                   (source.sector_key,)).fetchall())
        conn.commit()
    assert counts == {"linked": 4, "applied": 2, "same": 0, "review": 2}
    assert again == {"linked": 2, "applied": 0, "same": 2, "review": 0}
    assert outcomes == {2: "linked", 3: "linked", 4: "review", 5: "review"}
    assert values == {first.resident_id: items[0].values["ma_so"], second.resident_id: items[1].values["ma_so"],
                      third.resident_id: "OTHER00001"}


def _outcome_of_every_line(database: Database, job_id: int, key: str) -> tuple[dict[int, Any], dict[int, Any]]:
    with database.engine.connect() as conn:
        records = {r.line_no: (r.outcome, r.resident_id, sorted(r.reasons), r.detail) for r in conn.execute(text(
            "SELECT line_no, outcome, resident_id, reasons, detail FROM sync_record WHERE job_id = :j"),
            {"j": job_id})}
        links = {r.resident_id: (r.value, r.line_no) for r in conn.execute(text(
            "SELECT resident_id, value, line_no FROM resident_sector_id WHERE sector_key = :k"), {"k": key})}
    return records, links


def _written_exactly(resident: testdata.TrueResident, value: str, **changes: str) -> testdata.Labelled:
    year, month, day = resident.dob
    values = {"so_dinh_danh": resident.personal_id, "ho_ten": resident.full_name,
              "ngay_sinh": f"{day:02d}/{month:02d}/{year}" if day and month else f"{month:02d}/{year}" if month
              else str(year),
              "gioi_tinh": "Nam" if resident.sex == "1" else "Nữ", "ma_tinh": resident.province or "", "ma_so": value}
    return testdata.Labelled({**values, **changes}, resident.resident_id, "clean")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_the_fast_statement_links_only_what_the_full_judgement_links(
        database: Database, population: list[testdata.TrueResident], write_file: WriteFile, suffix: str) -> None:
    """Every noise kind, and near misses of the fast statement's exact tests (spacing, NFD, lower case, an old
    province code, a date in another format, a duplicate with another value): the same outcome, reasons,
    detail and link for every line whether the fast statement runs or not."""
    with_fast, without = new_source(), new_source()
    people = population[1500:1900]
    items = list(testdata.generate(people[:300], with_fast, seed=13, noise_rate=0.6, extra_rate=0.3,
                                   absent_rate=0.03))
    a, b, c, d, e, f, g, h = people[300:308]
    items += [
        _written_exactly(a, "A000000001", so_dinh_danh=f" {a.personal_id}"),
        _written_exactly(b, "B000000001", ho_ten=unicodedata.normalize("NFD", b.full_name)),
        _written_exactly(c, "C000000001", ho_ten=c.full_name + " ", gioi_tinh="nam" if c.sex == "1" else "nữ"),
        _written_exactly(d, "D000000001", ma_tinh="28"),  # an old 63-province code
        _written_exactly(e, "E000000001", ngay_sinh=f"{e.dob[0]}-{e.dob[1] or 1:02d}-{e.dob[2] or 1:02d}"),
        _written_exactly(f, "F000000001"), _written_exactly(f, "F000000002"),  # one resident, two values
        _written_exactly(g, " G000000001 "), _written_exactly(h, "H00000001"),  # padded; malformed
    ]
    random.Random(4).shuffle(items)
    path = write_file(with_fast, items, suffix)
    fast = jobs.run(database, with_fast, path, chunk_size=97, workers=1)  # file order: see the test below
    full = jobs.run(database, without, path, chunk_size=97, workers=1, fast_path=False)
    assert fast.fast_linked > 100 and full.fast_linked == 0
    assert _outcome_of_every_line(database, fast.job_id, with_fast.sector_key) == \
        _outcome_of_every_line(database, full.job_id, without.sector_key)
    assert fast.report["outcomes"] == full.report["outcomes"] and fast.report["reasons"] == full.report["reasons"]
    assert fast.report["linked_applied"] == full.report["linked_applied"] > 150


def test_parallel_chunks_link_one_of_two_values_for_a_resident_and_review_the_other(
        database: Database, population: list[testdata.TrueResident], source: Source, write_file: WriteFile) -> None:
    """With several workers, chunks commit in any order: of two agreeing records giving one resident different
    values in different chunks, the one committed first links (either), the other is a duplicate_in_file."""
    person, others = population[1950], population[1951:1990]
    items = [_written_exactly(person, "P000000001"), *(_written_exactly(o, f"Q{n:09d}") for n, o in
                                                       enumerate(others)), _written_exactly(person, "P000000002")]
    result = jobs.run(database, source, write_file(source, items, ".csv"), chunk_size=10, workers=3)
    records, links = _outcome_of_every_line(database, result.job_id, source.sector_key)
    [(line, (outcome, resident, reasons, detail))] = records.items()
    assert (outcome, resident, reasons) == ("review", person.resident_id, ["duplicate_in_file"])
    value, linked_line = links[person.resident_id]
    assert {line, linked_line} == {2, len(items) + 1} and {value, detail["record"]["sector_value"]} == {
        "P000000001", "P000000002"} and detail["existing"] == value
    assert result.report["outcomes"] == {"linked": len(items) - 1, "review": 1}
