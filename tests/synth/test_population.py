"""The pure generator: determinism, realistic proportions, consistent households, valid ID prefixes."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dancu.kit.text import fold
from dancu.registry import id_number
from dancu.registry.numbers import serials
from dancu.synth import rows
from dancu.synth import tables as t
from dancu.synth.ids import person_prefix
from dancu.synth.population import Chunk, Person, chunk_sizes, fold_name, generate_chunk, relatives

REFERENCE = Path("/work/shared/reference")
PLACE_CODES = frozenset("0" + p.code for p in t.PROVINCES)


@pytest.fixture(scope="module")
def population() -> list[Chunk]:
    return [generate_chunk(11, number, size, 5_000) for number, size in enumerate(chunk_sizes(20_000, 5_000))]


@pytest.fixture(scope="module")
def people(population: list[Chunk]) -> list[Person]:
    return [person for chunk in population for _, person in chunk.people()]


def _share(people: list[Person], test: object) -> float:
    return sum(1 for p in people if test(p)) / len(people)  # type: ignore[operator]


def test_same_seed_same_people_and_other_seed_others() -> None:
    assert generate_chunk(5, 3, 500, 500) == generate_chunk(5, 3, 500, 500)
    assert generate_chunk(5, 3, 500, 500) != generate_chunk(6, 3, 500, 500)
    assert generate_chunk(5, 3, 500, 500) != generate_chunk(5, 4, 500, 500)


def test_chunks_have_exactly_their_size() -> None:
    assert chunk_sizes(25_001, 10_000) == [10_000, 10_000, 5_001]
    assert generate_chunk(1, 0, 777, 1_000).size == 777


def test_family_names_sex_and_ethnicity_are_realistic(people: list[Person], population: list[Chunk]) -> None:
    assert 0.33 <= _share(people, lambda p: p.family == "Nguyễn") <= 0.43
    assert 0.08 <= _share(people, lambda p: p.family == "Trần") <= 0.14
    assert 0.46 <= _share(people, lambda p: p.sex == t.MALE) <= 0.54
    households = [h for chunk in population for h in chunk.households]
    kinh = sum(len(h.members) for h in households if h.ethnic == "01") / len(people)
    assert 0.80 <= kinh <= 0.90
    no_religion = sum(len(h.members) for h in households if h.religion == "00") / len(people)
    assert 0.80 <= no_religion <= 0.92
    assert 3.1 <= len(people) / len(households) <= 3.9


def test_regional_spellings(population: list[Chunk]) -> None:
    by_region: dict[str, Counter[str]] = {"north": Counter(), "south": Counter()}
    for chunk in population:
        for household, person in chunk.people():
            region = t.PROVINCE_BY_CODE[household.old_province].region
            if region in by_region:
                by_region[region][person.family] += 1
    assert by_region["north"]["Hoàng"] > 10 * by_region["north"]["Huỳnh"]
    assert by_region["south"]["Võ"] > 10 * by_region["south"]["Vũ"]


def test_partial_dates_only_for_the_old(people: list[Person]) -> None:
    partial = [p for p in people if p.dob_day is None]
    assert partial and all(p.dob_year < 1960 for p in partial)
    assert all(p.dob_month is not None for p in people if p.dob_day is not None)


def test_every_id_prefix_is_valid_for_the_person(people: list[Person]) -> None:
    for person in people:
        number = serials(person_prefix(person), 0, 1, b"test-key")[0]
        parsed = id_number.check(number, place_codes=PLACE_CODES, birth_year=person.dob_year, sex=person.sex)
        assert parsed.place_code == "0" + person.birth_province


def test_most_people_are_registered_where_they_live(population: list[Chunk]) -> None:
    pairs = [(h.old_province, p.birth_province) for chunk in population for h, p in chunk.people()]
    assert 0.80 <= sum(a == b for a, b in pairs) / len(pairs) <= 0.90


def test_households_are_consistent(population: list[Chunk]) -> None:
    for chunk in population:
        for household in chunk.households:
            members = household.members
            assert members[0].relation == t.HEAD
            assert sum(m.relation == t.HEAD for m in members) == 1
            for index, person in enumerate(members):
                _check_member(household.members, index, person)
                kinds = Counter(kind for kind, _ in relatives(household, index))
                assert kinds["father"] <= 1 and kinds["mother"] <= 1 and kinds["spouse"] <= 1


def _check_member(members: list[Person], index: int, person: Person) -> None:
    if person.father is not None:
        father = members[person.father]
        assert father.sex == t.MALE and person.family == father.family
        assert 20 <= father.age - person.age <= 45
    if person.mother is not None:
        assert members[person.mother].sex == t.FEMALE
        assert 20 <= members[person.mother].age - person.age <= 45
    if person.spouse is not None:
        assert members[person.spouse].spouse == index and person.marital == t.MARRIED
    if person.age < 18:
        assert person.marital == t.SINGLE and person.phone is None and person.email is None


def test_contacts_unique_and_well_formed(people: list[Person]) -> None:
    phones = [p.phone for p in people if p.phone]
    assert len(phones) == len(set(phones))
    assert all(len(phone) == 10 and phone[:3] in t.MOBILE_PREFIXES for phone in phones)
    adults = [p for p in people if p.age >= 18]
    assert 0.85 <= len(phones) / len(adults) <= 0.95
    assert 0.15 <= _share(adults, lambda p: p.email is not None) <= 0.25
    assert all(p.email.endswith("example.vn") and p.email.isascii() for p in adults if p.email)
    assert all(len(p.old_id) == 9 for p in people if p.old_id)


def test_copy_rows_hold_what_the_generator_made() -> None:
    chunk = generate_chunk(3, 0, 200, 200)
    people = [p for _, p in chunk.people()]
    ids = rows.Ids(list(range(1, len(chunk.households) + 1)), list(range(1000, 1000 + len(people))),
                   [f"{n:012d}" for n in range(len(people))])
    text = rows.chunk_copy_text(chunk, ids, datetime(2026, 1, 1, tzinfo=UTC))
    lines = [line.split("\t") for line in text.resident.splitlines()]
    assert len(lines) == len(people) and all(len(line) == len(rows.RESIDENT_COLUMNS) for line in lines)
    column = rows.RESIDENT_COLUMNS.index
    for line, person in zip(lines, people, strict=True):
        assert line[column("full_name")] == person.full_name
        assert line[column("name_folded")] == fold(person.full_name) == fold_name(person, {})
    assert len(text.household.splitlines()) == len(chunk.households)


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared reference files not available")
def test_province_table_matches_the_reference() -> None:
    with (REFERENCE / "province_codes_cccd_63.csv").open(encoding="utf-8") as f:
        old_codes = {row["ma_tinh_cccd"] for row in csv.DictReader(f)}
    with (REFERENCE / "provinces_34_qd19_2025.csv").open(encoding="utf-8") as f:
        new_rows = list(csv.DictReader(f))
    assert {"0" + p.code for p in t.PROVINCES} == old_codes
    assert {p.new_code for p in t.PROVINCES} == {row["ma_tinh"] for row in new_rows}
    for row in new_rows:
        merged = 1 if row["hop_nhat_tu_63_tinh_cu"] == "giữ nguyên" else row["hop_nhat_tu_63_tinh_cu"].count("+") + 1
        assert sum(p.new_code == row["ma_tinh"] for p in t.PROVINCES) == merged, row["ten"]
