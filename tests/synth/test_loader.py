"""Loading into the real test database: completeness, consistency, idempotence, resumption after a crash.

The session's database is shared with other tests, so every test uses its own seed and looks only at
the rows whose provenance names that seed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.config import get_settings
from dancu.db import Database
from dancu.registry import id_number
from dancu.registry.numbers import reserve, serials
from dancu.synth import loader, rows
from dancu.synth import tables as t
from dancu.synth.ids import person_prefix
from dancu.synth.population import chunk_sizes, generate_chunk

PLACE_CODES = frozenset("0" + p.code for p in t.PROVINCES)


class Crash(RuntimeError):
    pass


def _loaded(database: Database, seed: int) -> list[dict[str, Any]]:
    with database.engine.connect() as conn:
        result = conn.execute(
            text("SELECT * FROM resident WHERE provenance -> '*' ->> 'source' = :source ORDER BY resident_id"),
            {"source": rows.source_of(seed)},
        )
        return [dict(row._mapping) for row in result]


def _scalar(database: Database, sql: str, **params: Any) -> Any:
    with database.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _expected(seed: int, residents: int, chunk_size: int) -> Counter[tuple[Any, ...]]:
    """What the generator alone says the database must hold, keyed by the fields it fixes."""
    people = [(p, h) for n, size in enumerate(chunk_sizes(residents, chunk_size))
              for h, p in generate_chunk(seed, n, size, chunk_size).people()]
    return Counter((p.full_name, p.dob_year, p.dob_month, p.dob_day, p.sex, p.birth_province, h.province,
                    person_prefix(p)) for p, h in people)


def _actual(records: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter((r["full_name"], r["dob_year"], r["dob_month"], r["dob_day"], r["sex"],
                    r["birth_registration_province"], r["permanent_province"], r["personal_id"][:6])
                   for r in records)


def test_load_writes_consistent_residents_households_history_and_numbers(database: Database) -> None:
    seed = 910_001
    result = loader.load_population(database, 3_000, seed, progress=False, chunk_size=1_000)
    assert (result.residents, result.chunks, result.chunks_total) == (3_000, 3, 3)
    records = _loaded(database, seed)
    assert len(records) == 3_000
    assert _actual(records) == _expected(seed, 3_000, 1_000)
    by_id = {r["resident_id"]: r for r in records}
    for record in records:
        id_number.check(record["personal_id"], place_codes=PLACE_CODES, birth_year=record["dob_year"],
                        sex=record["sex"])
        for relative in record["relatives"]:
            other = by_id[relative["resident_id"]]
            assert other["household_id"] == record["household_id"]
            assert (other["personal_id"], other["full_name"]) == (relative["personal_id"], relative["full_name"])
        for card in record["id_cards"]:
            assert card["number"] == record["personal_id"] and card["kind"] == "CCCD"
    ids = list(by_id)
    assert _scalar(database, "SELECT count(*) FROM resident_change WHERE resident_id = ANY(:ids) AND version = 1 "
                   "AND kind = 'created' AND actor = 'synth'", ids=ids) == 3_000
    assert _scalar(database, "SELECT count(*) FROM personal_id_number WHERE resident_id = ANY(:ids) "
                   "AND origin = 'issued'", ids=ids) == 3_000
    heads = [r for r in records if r["relation_to_head"] == t.HEAD]
    assert _scalar(database, "SELECT count(*) FROM household WHERE head_resident_id = ANY(:ids)",
                   ids=[h["resident_id"] for h in heads]) == len(heads)


def test_second_run_loads_nothing(database: Database) -> None:
    seed = 910_002
    loader.load_population(database, 1_500, seed, progress=False, chunk_size=1_000)
    again = loader.load_population(database, 1_500, seed, progress=False, chunk_size=1_000)
    assert again.already_done and again.residents == 0
    assert len(_loaded(database, seed)) == 1_500


def test_resume_after_crash_between_chunks(database: Database) -> None:
    seed = 910_003

    def crash_after_second(number: int) -> None:
        if number == 1:
            raise Crash

    with pytest.raises(Crash):
        loader.load_population(database, 3_000, seed, progress=False, chunk_size=1_000,
                               after_chunk=crash_after_second)
    assert len(_loaded(database, seed)) == 2_000
    resumed = loader.load_population(database, 3_000, seed, progress=False, chunk_size=1_000)
    assert (resumed.residents, resumed.chunks) == (1_000, 1)
    records = _loaded(database, seed)
    assert _actual(records) == _expected(seed, 3_000, 1_000)
    assert len({r["personal_id"] for r in records}) == 3_000


def test_crash_inside_a_chunk_leaves_nothing_of_it(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = 910_004
    real = rows.number_text
    calls = Counter[str]()

    def failing_number_text(ids: rows.Ids, created_at: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 2:  # the second chunk dies after its residents were copied
            raise Crash
        return real(ids, created_at)

    monkeypatch.setattr(rows, "number_text", failing_number_text)
    with pytest.raises(Crash):
        loader.load_population(database, 2_000, seed, progress=False, chunk_size=1_000)
    monkeypatch.setattr(rows, "number_text", real)
    assert len(_loaded(database, seed)) == 1_000
    loader.load_population(database, 2_000, seed, progress=False, chunk_size=1_000)
    assert _actual(_loaded(database, seed)) == _expected(seed, 2_000, 1_000)


def test_registry_issues_after_synth_never_collide(database: Database, session: Session) -> None:
    seed = 910_005
    loader.load_population(database, 1_000, seed, progress=False, chunk_size=1_000)
    loaded = {r["personal_id"] for r in _loaded(database, seed)}
    key = get_settings().id_number_key.encode()
    for prefix in {number[:6] for number in list(loaded)[:50]}:
        fresh = serials(prefix, reserve(session, prefix, 1), 1, key)[0]
        assert fresh not in loaded


def test_ensure_population_leaves_a_populated_registry_alone(database: Database) -> None:
    loader.load_population(database, 500, 910_006, progress=False)
    loader.ensure_population(database, 700, 910_007)
    assert _loaded(database, 910_007) == []
    assert _scalar(database, "SELECT count(*) FROM job WHERE job_key = :k", k=loader.job_key(700, 910_007)) == 0


def test_every_loaded_resident_passes_the_registry_rules(database: Database) -> None:
    """What the generator writes must be what the registry itself would accept: every code in its catalogue."""
    from datetime import date

    from dancu.catalogs.service import CatalogLookup
    from dancu.registry.models import Resident
    from dancu.registry.repository import state_of
    from dancu.registry.validation import check_personal_id, check_state

    seed = 4242
    loader.load_population(database, 800, seed, progress=False, chunk_size=400)
    with database.sessions() as session:
        lookup = CatalogLookup.load(session)
        residents = session.query(Resident).filter(
            Resident.provenance["*"]["source"].astext == rows.source_of(seed)).all()
        assert len(residents) == 800
        for resident in residents:
            state = state_of(resident)
            errors = check_state(state, lookup, date.today()) + check_personal_id(state, lookup)
            assert errors == [], (resident.personal_id, errors)
