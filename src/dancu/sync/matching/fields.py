"""Comparison levels of one (sector record, resident) pair, field by field — pure, no I/O.

A name is split into family name (first word), middle names and given name (last word).  Each word is kept in
three strengths: ``exact`` (``kit.text.exact_key``: NFC, lower case, tone mark in a canonical place — hoà = hòa),
``folded`` (no diacritics, đ → d) and ``loose`` (folded, Võ → Vũ, Huỳnh → Hoàng, a final ``y`` after consonants
read as ``i``: Vy/Vi, Ly/Li).  A record written family-name-last ("Hoà Vũ Thị") is compared in both orders
and the better one kept (noted as ``reversed``).

Place codes: a pre-2025 commune code stands for every 2025 commune it went to (:class:`Communes`, from the
catalogue mapping ``commune_63->commune``), so an old code agrees with each of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler, Levenshtein

from dancu.kit.text import clean, exact_key, fold
from dancu.sync.matching.names import DROPPED, loose_word

JW_CLOSE = 0.85  # Jaro–Winkler on folded given names: one letter off in 4 ("Tuấn"/"Tuyn") passes; "An"/"Anh" too
Dob = tuple[int | None, int | None, int | None]


@dataclass(frozen=True, slots=True)
class Name:
    exact: tuple[str, ...]
    folded: tuple[str, ...]
    loose: tuple[str, ...]

    @classmethod
    def parse(cls, full_name: str, cleaned: bool = False) -> Name:
        """``cleaned``: the text is already ``kit.text.clean`` (the registry stores names so)."""
        return _parse(full_name if cleaned else clean(full_name))

    def reversed(self) -> Name:
        """Family name moved from the end to the front ("Hoà Vũ Thị" → "Vũ Thị Hoà")."""
        def turn(words: tuple[str, ...]) -> tuple[str, ...]:
            return (words[-1], *words[:-1]) if len(words) > 1 else words
        return Name(turn(self.exact), turn(self.folded), turn(self.loose))

    @property
    def given(self) -> int:
        return len(self.exact) - 1


@lru_cache(maxsize=100_000)  # full names repeat too (namesakes): "Nguyễn Văn Hùng" is parsed once
def _parse(cleaned: str) -> Name:
    forms = [_forms(w) for w in cleaned.split(" ") if w]
    return Name(tuple(f[0] for f in forms), tuple(f[1] for f in forms), tuple(f[2] for f in forms))


@lru_cache(maxsize=50_000)  # names repeat a few thousand words millions of times
def _forms(word: str) -> tuple[str, str, str]:
    folded = fold(word)
    return exact_key(word), folded, loose_word(folded)


def word_level(a: Name, i: int, b: Name, j: int, fuzzy: bool = False) -> str:
    """exact | folded | loose | close (only if ``fuzzy``: Jaro–Winkler ≥ ``JW_CLOSE`` or one edit apart in
    words of 3+ letters — "Sơn"/"Sưn") | different, for word a[i] vs word b[j]."""
    if a.exact[i] == b.exact[j]:
        return "exact"
    if a.folded[i] == b.folded[j]:
        return "folded"
    if a.loose[i] == b.loose[j]:
        return "loose"
    if fuzzy and (JaroWinkler.similarity(a.folded[i], b.folded[j]) >= JW_CLOSE
                  or (min(len(a.folded[i]), len(b.folded[j])) >= 3 and Levenshtein.distance(a.folded[i],
                                                                                           b.folded[j]) <= 1)):
        return "close"
    return "different"


def middle_level(record: Name, resident: Name) -> str:
    """same (folded) | dropped (equal once Văn/Thị are dropped, or loose-equal) | different."""
    rec, res = record.folded[1:-1], resident.folded[1:-1]
    if rec == res:
        return "same"
    kept = ([loose for word, loose in zip(rec, record.loose[1:-1], strict=True) if word not in DROPPED],
            [loose for word, loose in zip(res, resident.loose[1:-1], strict=True) if word not in DROPPED])
    return "dropped" if kept[0] == kept[1] else "different"


_RANK = {"exact": 4, "folded": 3, "loose": 2, "close": 1, "different": 0, "same": 2, "dropped": 1}


def name_levels(record: Name, resident: Name) -> tuple[str, str, str, bool]:
    """(given, family, middle, reversed): the record read in its order or family-name-last, whichever agrees more."""
    if not record.exact or not resident.exact:
        return "different", "different", "different", False
    straight = _name_levels(record, resident)
    if len(record.exact) < 2 or straight[:2] == ("exact", "exact"):
        return (*straight, False)
    turned = _name_levels(record.reversed(), resident)
    if sum(_RANK[x] for x in turned) > sum(_RANK[x] for x in straight) + 1:  # needs a clear gain to turn
        return (*turned, True)
    return (*straight, False)


def _name_levels(record: Name, resident: Name) -> tuple[str, str, str]:
    given = word_level(record, record.given, resident, resident.given, fuzzy=True)
    family = word_level(record, 0, resident, 0) if record.given > 0 and resident.given > 0 else "different"
    return given, family, middle_level(record, resident)


def dob_level(record: Dob, resident: Dob) -> str:
    """exact | swapped (day and month) | year_month (a day missing) | year (the record has the year only) |
    year_off (one year apart, day and month equal) | different."""
    (ry, rm, rd), (py, pm, pd) = record, resident
    if ry is None or py is None:
        return "different"
    if ry == py:
        if rm is None or pm is None:
            return "year"
        if rm == pm:
            return "exact" if rd == pd else ("year_month" if rd is None or pd is None else "different")
        return "swapped" if rd is not None and rd == pm and pd == rm else "different"
    if abs(ry - py) == 1 and rm is not None and rm == pm and rd is not None and rd == pd:
        return "year_off"
    return "different"


def code_level(record: str | None, *resident: str | None) -> str | None:
    """same | different, or None (no contribution) when either side is unknown."""
    known = [c for c in resident if c]
    if not record or not known:
        return None
    return "same" if record in known else "different"


def codes_level(record: tuple[str | None, ...], resident: tuple[str | None, ...]) -> str | None:
    """same (the two sides share a code) | different, or None (no contribution) when either side has none."""
    known = [c for c in resident if c]
    if not known or not any(record):
        return None
    return "same" if any(c in known for c in record if c) else "different"


class Communes:
    """What a commune code stands for, precomputed from the mapping of the communes before 1 July 2025 to the
    communes since (``commune_63->commune``: one old commune to each new one it went to, whole or in part).

    Old and new codes share one 5-digit space: most new communes kept the code of one of the old ones they
    absorbed.  A *record*'s code (a sector file of either era) is read both ways: the current commune of that
    code, if there is one, and every commune the old commune of that code went to.  A *resident*'s code (the
    registry validates writes against the current list) is read as the current commune; only a code that is
    no current commune's is read as an old one.  An unknown code stands for itself.  Pure dict look-ups.
    """

    __slots__ = ("_old_only", "_record")

    def __init__(self, pairs: Iterable[tuple[str, str]] = (), current: Iterable[str] = ()) -> None:
        successors: dict[str, list[str]] = {}
        for old, new in pairs:
            found = successors.setdefault(old, [])
            if new not in found:
                found.append(new)
        now = frozenset(current)
        self._record = {old: (old, *(c for c in new if c != old)) if old in now else tuple(new)
                        for old, new in successors.items()}
        self._old_only = {old: tuple(new) for old, new in successors.items() if old not in now}

    def __bool__(self) -> bool:
        return bool(self._record)

    def record(self, code: str | None) -> tuple[str, ...]:
        """The current communes a sector record's code may mean (empty for no code)."""
        if not code:
            return ()
        return self._record.get(code) or (code,)

    def resident(self, *codes: str | None) -> tuple[str, ...]:
        """The current communes of a resident's codes (permanent, current residence), without repeats."""
        out: list[str] = []
        for code in codes:
            if code:
                out += [c for c in self._old_only.get(code, (code,)) if c not in out]
        return tuple(out)

    def is_old(self, code: str | None) -> bool:
        """A pre-2025 commune's code that no current commune has (so it can only mean the old one)."""
        return bool(code) and code in self._old_only


NO_COMMUNES = Communes()
