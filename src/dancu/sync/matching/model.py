"""The Fellegi–Sunter model of demographic matching: comparison levels, m/u probabilities, weights, decisions.

For each field a pair agrees at one *level*; the level's weight is ``log2(m / u)`` where ``m`` is how often true
matches fall at that level and ``u`` how often random pairs do.  For the given and family names at ``exact`` /
``folded`` level, ``u`` is the name's own frequency in the registry (term frequency): agreeing on "Nguyễn"
(≈ 39 %) says little, agreeing on a rare given name says a lot.  A pair's score is the sum of its weights (bits).

``m`` is learnt by counting levels over pairs the personal ID already confirmed (stage a), ``u`` by counting
levels over random (record, resident) pairs; both are smoothed towards the defaults below, so a small sample
moves them a little and a large one a lot.  The model is stored per source (table ``match_weights``) as JSON.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

Levels = dict[str, str]  # field -> level; a field without a level (unknown on one side) contributes nothing

# field -> level -> (m, u), the priors before any learning (shares, each column summing to 1).
DEFAULTS: dict[str, dict[str, tuple[float, float]]] = {
    "given": {"exact": (0.86, 0.02), "folded": (0.07, 0.004), "loose": (0.02, 0.001), "close": (0.02, 0.03),
              "different": (0.03, 0.945)},
    "family": {"exact": (0.88, 0.15), "folded": (0.06, 0.01), "loose": (0.05, 0.03), "different": (0.01, 0.81)},
    "middle": {"same": (0.85, 0.30), "dropped": (0.10, 0.10), "different": (0.05, 0.60)},
    "dob": {"exact": (0.80, 0.00004), "swapped": (0.03, 0.00003), "year_month": (0.02, 0.001),
            "year": (0.10, 0.012), "year_off": (0.01, 0.0002), "different": (0.04, 0.98676)},
    "sex": {"same": (0.98, 0.5), "different": (0.02, 0.5)},
    "province": {"same": (0.92, 0.06), "different": (0.08, 0.94)},
    "commune": {"same": (0.85, 0.003), "different": (0.15, 0.997)},
}
TF_FIELDS = {"given": ("exact", "folded"), "family": ("exact", "folded")}
TF_FLOOR = 1e-6  # a name never seen in the registry counts as one in a million
M_PRIOR_STRENGTH = 50.0  # pseudo-pairs pulling the learnt m towards the default
U_PRIOR_STRENGTH = 2_000.0
PROBABILITY_FLOOR = 1e-6
M_FLOOR_SHARE = 0.2


@dataclass(frozen=True)
class Thresholds:
    link: float = 16.0  # bits: at or above, with the margin, the best candidate is linked
    review: float = 9.0  # bits: at or above (or a linkable best without the margin), the record goes to review
    margin: float = 5.0  # bits the best must lead the runner-up by


@dataclass(frozen=True)
class Model:
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    thresholds: Thresholds = field(default_factory=Thresholds)
    trained_pairs: int = 0
    random_pairs: int = 0

    @classmethod
    def default(cls) -> Model:
        return cls({f: {lv: mu[0] for lv, mu in levels.items()} for f, levels in DEFAULTS.items()},
                   {f: {lv: mu[1] for lv, mu in levels.items()} for f, levels in DEFAULTS.items()})

    def weight(self, name: str, level: str, tf: float | None = None) -> float:
        if tf is None or level not in TF_FIELDS.get(name, ()):
            return self.table[name][level]
        return math.log2(max(self.m[name][level], PROBABILITY_FLOOR) / max(tf, TF_FLOOR))

    @cached_property
    def table(self) -> dict[str, dict[str, float]]:
        """log2(m/u) per field and level, computed once (scoring reads it hundreds of thousands of times)."""
        return {f: {lv: math.log2(max(m, PROBABILITY_FLOOR) / max(self.u[f][lv], TF_FLOOR)) for lv, m in lvs.items()}
                for f, lvs in self.m.items()}

    def to_json(self) -> dict[str, Any]:
        return {"m": self.m, "u": self.u, "thresholds": vars(self.thresholds), "trained_pairs": self.trained_pairs,
                "random_pairs": self.random_pairs,
                "weights": {f: {lv: round(self.weight(f, lv), 2) for lv in lvs} for f, lvs in self.m.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        base = cls.default()
        m = {f: {**base.m[f], **data.get("m", {}).get(f, {})} for f in base.m}
        u = {f: {**base.u[f], **data.get("u", {}).get(f, {})} for f in base.u}
        return cls(m, u, Thresholds(**data.get("thresholds", {})), int(data.get("trained_pairs", 0)),
                   int(data.get("random_pairs", 0)))


@dataclass(frozen=True)
class Scored:
    resident_id: int
    score: float
    levels: Levels
    weights: dict[str, float]


def score(model: Model, resident_id: int, levels: Levels, tf: Mapping[str, float | None]) -> Scored:
    weights = {f: model.weight(f, lv, tf.get(f)) for f, lv in levels.items()}
    return Scored(resident_id, round(sum(weights.values()), 2), levels, weights)


def decide(model: Model, ranked: list[Scored]) -> tuple[str, str | None]:
    """(outcome, reason) for a record's candidates sorted best first: linked, review or unmatched."""
    if not ranked or ranked[0].score < model.thresholds.review:
        return "unmatched", None
    best = ranked[0].score
    close = len(ranked) > 1 and best - ranked[1].score < model.thresholds.margin
    if close:
        return "review", "ambiguous_candidates"
    if best >= model.thresholds.link:
        return "linked", None
    return "review", "low_score"


def learn(model: Model, matches: Iterable[Levels], randoms: Iterable[Levels]) -> Model:
    """m from level counts over ID-confirmed pairs, u over random pairs; each smoothed towards ``model``."""
    m, n_m = _estimate(model.m, matches, M_PRIOR_STRENGTH)
    # Stage (a) confirms only pairs it found consistent, so disagreements are under-counted among them: an m
    # never falls below a fifth of its default.
    m = {f: {lv: max(p, M_FLOOR_SHARE * DEFAULTS[f][lv][0]) for lv, p in levels.items()} for f, levels in m.items()}
    u, n_u = _estimate(model.u, randoms, U_PRIOR_STRENGTH)
    return replace(model, m=m, u=u, trained_pairs=n_m, random_pairs=n_u)


def _estimate(prior: dict[str, dict[str, float]], observed: Iterable[Levels],
              strength: float) -> tuple[dict[str, dict[str, float]], int]:
    counts: dict[str, Counter[str]] = {f: Counter() for f in prior}
    n = 0
    for pair in observed:
        n += 1
        for f, lv in pair.items():
            if f in counts:
                counts[f][lv] += 1
    out = {}
    for f, levels in prior.items():
        total = sum(counts[f].values())
        out[f] = {lv: (counts[f][lv] + strength * p) / (total + strength) for lv, p in levels.items()}
    return out, n
