"""Blocking keys: which residents a sector record is compared with at all.

Every resident has a few keys in ``resident_match_key`` and every record computes the same keys; a record's
candidates are the residents sharing at least one key.  The name part is the *loose key*
(``names.loose_key``: no diacritics, Võ→Vũ, Huỳnh→Hoàng, Văn/Thị dropped, y→i, words sorted), so diacritics,
tone placement, regional spellings, a dropped middle name and reversed order all leave it unchanged.

| kind | parts | survives | block at 100 M residents |
|---|---|---|---|
| ``nyp`` | loose name, birth year, province | any date noise, any name noise above | tens to a few hundred |
| ``nd`` | loose name, full date of birth | province moves and old codes | a few |
| ``dpi`` | full date of birth, province, initials of the loose words | a misspelt word | tens |
| ``nys`` | loose name, birth year, sex | province moves with a year-only date | rare names only (capped) |

A record whose day and month could be swapped (both ≤ 12) also probes the swapped date.  Keys are stored as the
first 8 bytes of BLAKE2b of the key text: 16 bytes a row instead of ~40, and the same on every machine.
A key whose block is larger than the cap (``DEFAULT_CAP``) is skipped when probing: "Nguyễn Văn Hùng, 1990,
Nam" is no evidence, and skipping it keeps the comparisons per record bounded at any registry size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from dancu.kit.text import fold
from dancu.sync.matching.names import loose_key

DEFAULT_CAP = 1_000
Dob = tuple[int | None, int | None, int | None]


def key_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def key_texts(name: str, dob: Dob, sex: str | None, provinces: tuple[str | None, ...],
              folded: bool = False) -> Iterator[str]:
    """The key texts of a person (``name`` already folded if ``folded``); deterministic, duplicates removed."""
    loose = loose_key(name if folded else fold(name))
    if not loose:
        return
    year, month, day = dob
    initials = "".join(sorted(w[0] for w in loose.split(" ")))
    places = sorted({p for p in provinces if p})
    seen: set[str] = set()
    candidates = []
    if year is not None:
        candidates += [f"nyp|{loose}|{year}|{p}" for p in places]
        if sex:
            candidates.append(f"nys|{loose}|{year}|{sex}")
        if month is not None and day is not None:
            candidates.append(f"nd|{loose}|{year}-{month}-{day}")
            candidates += [f"dpi|{year}-{month}-{day}|{p}|{initials}" for p in places]
    for text in candidates:
        if text not in seen:
            seen.add(text)
            yield text


def record_keys(name: str, dob: Dob, sex: str | None, province: str | None, folded: bool = False) -> set[int]:
    """A record's probe keys: its own, and those of its swapped day/month when that is a valid reading too."""
    year, month, day = dob
    texts = set(key_texts(name, dob, sex, (province,), folded))
    if month is not None and day is not None and day <= 12 and day != month:
        texts.update(key_texts(name, (year, day, month), sex, (province,), folded))
    return {key_hash(t) for t in texts}


def resident_keys(name_folded: str, dob: Dob, sex: str | None, provinces: tuple[str | None, ...]) -> set[int]:
    return {key_hash(t) for t in key_texts(name_folded, dob, sex, provinces, folded=True)}
