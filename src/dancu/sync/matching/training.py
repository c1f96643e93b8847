"""Prepare a job's model: the source's stored model (or the defaults), re-learnt from the pairs the personal ID
confirmed and from random pairs, then stored again per source so it can be inspected and tuned.

* m: comparison levels counted over the job's ID-confirmed pairs.  Stage (a) keeps no copy of a linked record
  (only its ``resident_sector_id`` row with the job and line), so the first ``MAX_CONFIRMED`` records of the file
  are read again, normalised, and paired with the resident their line was linked to;
* u: levels counted over random pairs — ``U_RECORDS`` of this job's own stage-(b) records (so the file's own
  noise shows) against ``U_RESIDENTS`` residents sampled from the registry.

Fewer than ``MIN_CONFIRMED`` confirmed pairs (no source or file at hand, a file without IDs) keeps the stored m.
A stored model with ``"frozen": true`` is used as it is (an operator's hand-tuned weights).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

from dancu.sync.matching import repository as repo
from dancu.sync.matching.fields import NO_COMMUNES, Communes, Name
from dancu.sync.matching.model import Levels, Model, learn
from dancu.sync.matching.records import Normaliser
from dancu.sync.matching.sample import head_records
from dancu.sync.matching.scoring import Person, compare
from dancu.sync.sources import Source

MAX_CONFIRMED = 20_000
MIN_CONFIRMED = 200
U_RECORDS = 300
U_RESIDENTS = 150
ProvinceMap = Callable[[str], str | None]


def prepare(conn: psycopg.Connection, job_id: int, source: Source | None, provinces: ProvinceMap,
            communes: Communes = NO_COMMUNES) -> Model:
    from dancu.sync.matching.stage_b import record_person, resident_person

    with conn.transaction(), conn.cursor() as cur:
        params, _report = repo.job_params(cur, job_id)
        stored = repo.load_model(cur, params["source"])
        base = Model.from_json(stored) if stored else Model.default()
        if stored and stored.get("frozen"):
            return base
        confirmed = confirmed_pairs(cur, job_id, source, Path(params.get("file", "")), provinces)
        matches = [compare(rec, res)[0] for rec, res in confirmed]
        records = [record_person(dict(d.get("record") or {}), provinces, communes) for _l, _v, d, *_ in
                   repo.pending(cur, job_id, 0, U_RECORDS)]
        residents = [resident_person(r, communes) for r in repo.random_residents(cur, U_RESIDENTS)]
        randoms = list(_random_levels([r for r in records if r is not None], residents))
        if len(matches) >= MIN_CONFIRMED:
            model = learn(base, matches, randoms)
        else:
            model = Model(base.m, learn(base, [], randoms).u, base.thresholds, base.trained_pairs, len(randoms))
        repo.save_model(cur, params["source"], model.to_json(), model.trained_pairs)
    return model


def confirmed_pairs(cur: psycopg.Cursor[tuple[object, ...]], job_id: int, source: Source | None, path: Path,
                    provinces: ProvinceMap, limit: int = MAX_CONFIRMED) -> list[tuple[Person, Person]]:
    """(record, resident) for the first ``limit`` usable records of the file that stage (a) linked by ID."""
    from dancu.sync.matching.stage_b import resident_person

    if source is None or not path.is_file():
        return []
    normalise = Normaliser(source, lambda code: (provinces(code), None))
    sample: dict[int, Person] = {}
    for line_no, values in head_records(path, source.input_columns()[:6], limit):
        staged = normalise(values)
        if not staged.problems and staged.full_name and staged.dob is not None:
            sample[line_no] = Person(Name.parse(staged.full_name), staged.dob, staged.sex, (staged.province,))
    rows = repo.linked_residents(cur, job_id, list(sample))
    return [(sample[int(row[0])], resident_person(row[1:])) for row in rows]


def learn_from(pairs: list[tuple[Person, Person]], randoms: list[tuple[Person, Person]],
               base: Model | None = None) -> Model:
    """The same learning on in-memory pairs (tests, benchmarks)."""
    return learn(base or Model.default(), [compare(a, b)[0] for a, b in pairs],
                 [compare(a, b)[0] for a, b in randoms])


def _random_levels(records: list[Person], residents: list[Person]) -> Iterator[Levels]:
    for record in records:
        for resident in residents:
            yield compare(record, resident)[0]
