"""Stage (b): demographic matching of the records the personal ID did not place — outcome ``unmatched_id``, or a
stage-(a) review whose ID found someone with another name, date of birth or sex (a relative's or mistyped ID).

``run_stage_b(conn, job_id)`` reads those records in line order, ``batch`` at a time; per batch it probes the
blocking keys in one set-based query, scores every candidate in Python (``scoring``), decides, and writes each
record's outcome with its explanation, the stage-(b) checkpoint and (if ``dancu.sync.links.apply_links``
exists) the links, in one transaction.  A killed run resumes after the last committed batch; a finished one
does nothing more (only rows still waiting for stage (b) are touched).  The model is prepared once per job (learnt
from this source's ID-confirmed pairs, see ``training``) and kept in the job's report, so a resumed run scores
with the same weights.
"""

from __future__ import annotations

import importlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from dancu.sync.matching import repository as repo
from dancu.sync.matching import training
from dancu.sync.matching.blocking import DEFAULT_CAP, record_keys
from dancu.sync.matching.fields import NO_COMMUNES, Communes, Name
from dancu.sync.matching.model import Model, Scored, decide
from dancu.sync.matching.scoring import Person, TermFrequencies, explain, rank
from dancu.sync.sources import Source

BATCH = 10_000
TOP = 3  # candidates kept in a review item
COMMUNE_OLD_CODE = "commune_old_code"  # note: the record's commune is a pre-2025 code, compared as what it became
ProvinceMap = Callable[[str], str | None]


def run_stage_b(conn: psycopg.Connection, job_id: int, *, source: Source | None = None, batch: int = BATCH,
                cap: int = DEFAULT_CAP, provinces: ProvinceMap | None = None,
                model: Model | None = None, communes: Communes | None = None) -> dict[str, int]:
    """Match this job's records whose ID is missing, unknown or points at someone the record does not describe
    (``repository.id_failed``); returns the counts per outcome of the whole job's stage (b).

    ``source`` (the job's declaration) lets the model learn from the file's ID-confirmed lines; ``provinces``
    maps an old 63-province code to its 2025 code (stage (a) already did, so the default keeps codes as they are);
    ``communes`` reads a commune code before or after 2025 (default: the catalogue mapping ``commune_63->commune``
    as loaded in the database; stage (a) keeps a record's commune as given).
    """
    with conn.cursor() as cur:
        params, report = repo.job_params(cur, job_id)
        tf: TermFrequencies = repo.load_model(cur, repo.TF_SOURCE) or {}
        if communes is None:
            communes = repo.communes(cur)
        repo.refresh_statistics(cur)
    conn.commit()
    state = dict(report.get("stage_b") or {"after": 0, "counts": {}, "capped_keys": 0, "seconds": 0.0})
    to_province = provinces or _same
    if model is None:
        model = Model.from_json(state["model"]) if "model" in state else training.prepare(conn, job_id, source,
                                                                                          to_province, communes)
    state["model"] = model.to_json()
    apply = _links_applier()
    claimed: dict[int, str | None] = {}  # resident -> sector value linked by this run (duplicates go to review)
    while True:
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            rows = repo.pending(cur, job_id, int(state["after"]), batch)
            if not rows:
                break
            outcomes = _match_batch(cur, model, rows, params["sector_key"], cap, tf, to_province, communes, state,
                                    claimed)
            repo.update_records(cur, job_id, outcomes)
            state["after"] = int(rows[-1][0])
            counts: Counter[str] = Counter(state["counts"])
            counts.update(o[1] for o in outcomes)
            state["counts"] = dict(counts)
            state["seconds"] = round(float(state["seconds"]) + time.perf_counter() - started, 3)
            repo.save_stage_b(cur, job_id, state)
            if apply is not None:
                apply(conn, job_id, [o[0] for o in outcomes if o[1] == "linked"])
    return {str(k): int(v) for k, v in state["counts"].items()}


def record_person(record: dict[str, Any], to_province: ProvinceMap, communes: Communes = NO_COMMUNES) -> Person | None:
    """The record as stage (a) kept it in ``detail.record`` (either shape: split dob fields or one date text);
    its commune as every current commune the code may mean (an old code: those it went to)."""
    name = record.get("full_name") or ""
    if "dob_year" in record:
        dob = (record.get("dob_year"), record.get("dob_month"), record.get("dob_day"))
    else:
        parts = [int(p) for p in str(record.get("date_of_birth") or "").split("-") if p.isdigit()]
        dob = (*parts, None, None, None)[:3] if parts else (None, None, None)  # type: ignore[assignment]
    if not name.strip() or dob[0] is None:
        return None
    province = record.get("province")
    return Person(Name.parse(name), dob, record.get("sex"), (to_province(province) if province else None,),
                  communes.record(record.get("commune")))


def resident_person(row: tuple[Any, ...], communes: Communes = NO_COMMUNES) -> Person:
    """From ``repository.RESIDENT_FIELDS`` (resident_id first)."""
    return Person(Name.parse(row[1], cleaned=True), (row[2], row[3], row[4]), row[5], (row[6], row[7]),
                  communes.resident(row[8], row[9]))


def _match_batch(cur: psycopg.Cursor[Any], model: Model, rows: list[tuple[Any, ...]], sector_key: str, cap: int,
                 tf: TermFrequencies, to_province: ProvinceMap, communes: Communes, state: dict[str, Any],
                 claimed: dict[int, str | None]) -> list[Outcome]:
    records: list[_Pending] = []
    probes: list[tuple[int, int]] = []
    for line_no, sector_value, detail, outcome, resident_id, reasons in rows:
        raw = dict(detail.get("record") or {})
        person = record_person(raw, to_province, communes)
        notes = [COMMUNE_OLD_CODE] if communes.is_old(raw.get("commune")) and COMMUNE_OLD_CODE not in reasons else []
        records.append(_Pending(int(line_no), person, sector_value, outcome, resident_id, [*reasons, *notes]))
        if person is not None:
            probes += [(int(line_no), k) for k in record_keys(" ".join(person.name.folded), person.dob, person.sex,
                                                              person.provinces[0], folded=True)]
    repo.probe(cur, probes, [(p.line, p.id_resident) for p in records if p.id_resident is not None])
    rows_found, capped = repo.candidates(cur, sector_key, cap)
    state["capped_keys"] = int(state.get("capped_keys", 0)) + capped
    found: dict[int, list[Candidate]] = {}
    people: dict[int, Person] = {}
    for row in rows_found:
        rid = int(row[1])
        person = people.get(rid) or people.setdefault(rid, resident_person(row[1:], communes))
        found.setdefault(int(row[0]), []).append((rid, person, row[11], row[12]))
    return [_decide_one(model, p, found.get(p.line, []), tf, claimed) for p in records]


Outcome = tuple[int, str, int | None, list[str], dict[str, Any]]  # line, outcome, resident, reasons, detail
Candidate = tuple[int, Person, str | None, str | None]  # resident_id, person, death_kind, existing sector value
_ID_CONFLICTS = frozenset({"name_mismatch", "dob_mismatch", "sex_mismatch"})


@dataclass(frozen=True, slots=True)
class _Pending:
    line: int
    record: Person | None
    value: str | None
    outcome: str  # unmatched_id, or review when the ID found someone the record does not describe
    id_resident: int | None
    reasons: list[str]


def _decide_one(model: Model, item: _Pending, candidates: list[Candidate], tf: TermFrequencies,
                claimed: dict[int, str | None]) -> Outcome:
    outcome, resident, reasons, detail = _judge(model, item, candidates, tf, claimed)
    if item.outcome == "review" and outcome != "linked":  # the ID's conflict stays for the reviewer
        return item.line, "review", item.id_resident, item.reasons, detail
    if item.outcome == "review":
        kept = [r for r in item.reasons if r not in _ID_CONFLICTS]
        other = ["id_of_other_resident"] if resident != item.id_resident else []
        return item.line, "linked", resident, [*kept, *reasons, *other], detail
    return item.line, outcome, resident, [*item.reasons, *reasons], detail


def _judge(model: Model, item: _Pending, candidates: list[Candidate], tf: TermFrequencies,
           claimed: dict[int, str | None]) -> tuple[str, int | None, list[str], dict[str, Any]]:
    if item.record is None:
        return "unmatched", None, ["no_demographics"], {}
    ranked = rank(model, item.record, ((rid, p) for rid, p, _d, _e in candidates), tf)
    outcome, reason = decide(model, [s for s, _t in ranked])
    if outcome == "unmatched":
        best = {"best_score": ranked[0][0].score} if ranked else {}
        return "unmatched", None, ["no_demographic_match"], {"match": {"candidates": len(ranked), **best}}
    top, turned = ranked[0]
    info = {rid: (death, existing) for rid, _p, death, existing in candidates}
    death, existing = info[top.resident_id]
    explanation = {**explain(top, turned), "candidates": len(ranked),
                   "runner_up": ranked[1][0].score if len(ranked) > 1 else None}
    if outcome == "linked":
        conflict = _conflict(top, item.value, death, existing, claimed)
        if conflict is None:
            claimed[top.resident_id] = item.value
            sector = "same" if existing is not None else "new"
            return "linked", top.resident_id, ["demographic"], {"match": explanation, "sector": sector}
        reason = conflict
    shortlist = [explain(s, t) for s, t in ranked[:TOP]]
    detail = {"match": explanation, "candidates": shortlist, **({"existing": existing} if existing else {})}
    return "review", top.resident_id, [str(reason)], detail


def _conflict(top: Scored, value: str | None, death: str | None, existing: str | None,
              claimed: dict[int, str | None]) -> str | None:
    if death is not None:
        return "resident_deceased"
    if existing is not None and existing != value:
        return "sector_id_conflict"
    if top.resident_id in claimed and claimed[top.resident_id] != value:
        return "duplicate_in_file"
    return None


def _same(code: str) -> str | None:
    return code


def _links_applier() -> Callable[[psycopg.Connection, int, list[int]], Any] | None:
    """``dancu.sync.links.apply_links`` when the ID-keyed pipeline provides it (it applies linked rows)."""
    try:
        module = importlib.import_module("dancu.sync.links")
    except ImportError:
        return None
    return getattr(module, "apply_links", None)
