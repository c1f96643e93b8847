"""Score a sector record against its candidate residents — pure: people in, ranked scores out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dancu.sync.matching.fields import Dob, Name, code_level, codes_level, dob_level, name_levels
from dancu.sync.matching.model import Levels, Model, Scored, score

TermFrequencies = Mapping[str, Mapping[str, float]]  # "given"/"family" -> folded name -> share of residents


@dataclass(frozen=True, slots=True)
class Person:
    """``provinces``: the record's (2025) province, or the resident's permanent and current ones;
    ``communes``: every current commune the record's code may mean, or the resident's (``fields.Communes``)."""

    name: Name
    dob: Dob
    sex: str | None = None
    provinces: tuple[str | None, ...] = ()
    communes: tuple[str | None, ...] = ()


def compare(record: Person, resident: Person) -> tuple[Levels, bool]:
    """The comparison level of every field both sides know, and whether the record's name was read reversed."""
    given, family, middle, turned = name_levels(record.name, resident.name)
    levels: Levels = {"given": given, "family": family, "middle": middle,
                      "dob": dob_level(record.dob, resident.dob)}
    for field, level in (("sex", code_level(record.sex, resident.sex)),
                         ("province", code_level(record.provinces[0] if record.provinces else None,
                                                 *resident.provinces)),
                         ("commune", codes_level(record.communes, resident.communes))):
        if level is not None:
            levels[field] = level
    return levels, turned


def frequencies(resident: Person, tf: TermFrequencies) -> dict[str, float | None]:
    folded = resident.name.folded
    if not folded:
        return {}
    return {"given": tf.get("given", {}).get(folded[-1]), "family": tf.get("family", {}).get(folded[0])}


def rank(model: Model, record: Person, candidates: Iterable[tuple[int, Person]],
         tf: TermFrequencies) -> list[tuple[Scored, bool]]:
    """(score, reversed) per candidate, best first (ties broken by resident_id for a stable order)."""
    out = []
    for resident_id, resident in candidates:
        levels, turned = compare(record, resident)
        out.append((score(model, resident_id, levels, frequencies(resident, tf)), turned))
    out.sort(key=lambda item: (-item[0].score, item[0].resident_id))
    return out


def explain(scored: Scored, turned: bool) -> dict[str, Any]:
    """What a reviewer (or the linked record's detail) sees: each field's level and weight, and the score."""
    fields = {f: {"level": lv, "weight": round(scored.weights[f], 2)} for f, lv in scored.levels.items()}
    return {"resident_id": scored.resident_id, "score": scored.score, "fields": fields,
            **({"name_order": "reversed"} if turned else {})}
