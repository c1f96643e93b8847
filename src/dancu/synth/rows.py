"""A generated chunk, with the ids the database gave it, as PostgreSQL COPY text (one string per table).

Text format by hand rather than ``write_row``: it keeps the per-row cost to one f-string; only JSON can
contain a backslash, and tabs or newlines never reach here unescaped (orjson escapes them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import orjson

from dancu.synth import tables as t
from dancu.synth.population import Chunk, Household, Person, fold_name, relatives

NULL = "\\N"
HOUSEHOLD_COLUMNS = ("household_id", "head_resident_id", "residence_file_number", "province_code", "commune_code",
                     "address", "created_at")
RESIDENT_COLUMNS = (
    "resident_id", "personal_id", "full_name", "name_folded", "dob_year", "dob_month", "dob_day", "sex",
    "birth_place", "birth_place_province", "birth_registration_province", "home_town", "home_town_province",
    "ethnic_code", "religion_code", "nationality_code", "blood_type", "old_id_number", "id_cards", "relatives",
    "permanent_province", "permanent_commune", "permanent_address", "current_province", "current_commune",
    "current_address", "residence_file_number",
    "marital_status", "household_id", "relation_to_head", "phone", "email", "provenance",
    "version", "created_at", "updated_at",
)
CHANGE_COLUMNS = ("resident_id", "version", "recorded_at", "kind", "actor", "source", "reason", "changes")
NUMBER_COLUMNS = ("number", "resident_id", "origin", "issued_at")


@dataclass(frozen=True)
class Ids:
    """What the database handed out for one chunk, in the chunk's own order."""

    households: list[int]
    residents: list[int]
    personal_ids: list[str]


@dataclass(frozen=True)
class CopyText:
    household: str
    resident: str
    resident_change: str
    personal_id_number: str


REASON = "synthetic population"


def source_of(seed: int) -> str:
    return f"synth:seed={seed}"


def chunk_copy_text(chunk: Chunk, ids: Ids, created_at: datetime) -> CopyText:
    """Every table's COPY text at once (tests and small loads; the loader streams residents instead)."""
    return CopyText(household_text(chunk, ids, created_at), "".join(resident_text(chunk, ids, created_at)),
                    change_text(chunk.seed, ids, created_at), number_text(ids, created_at))


def household_text(chunk: Chunk, ids: Ids, created_at: datetime) -> str:
    stamp, lines, position = created_at.isoformat(), [], 0
    for household, household_id in zip(chunk.households, ids.households, strict=True):
        lines.append(f"{household_id}\t{ids.residents[position]}\t{household.residence_file_number}\t"
                     f"{household.province}\t{household.commune}\t{household.address}\t{stamp}\n")
        position += len(household.members)
    return "".join(lines)


def resident_text(chunk: Chunk, ids: Ids, created_at: datetime, source: str | None = None) -> Iterator[str]:
    """Resident rows, one string per household, lazily (so COPY can send while the rest is formatted);
    ``source`` names their provenance (default :func:`source_of` the chunk's seed)."""
    stamp = created_at.isoformat()
    provenance = _json({"*": {"source": source or source_of(chunk.seed), "updated_at": stamp}})
    cache: dict[str, str] = {}
    position = 0
    for household, household_id in zip(chunk.households, ids.households, strict=True):
        first = position
        lines = []
        for m_index, person in enumerate(household.members):
            links = _relatives(household, m_index, first, ids)
            lines.append(_resident_line(household, person, household_id, ids, position, links,
                                        fold_name(person, cache), provenance, stamp))
            position += 1
        yield "".join(lines)


def change_text(seed: int, ids: Ids, created_at: datetime, source: str | None = None, actor: str = "synth",
                reason: str = REASON) -> str:
    stamp, source = created_at.isoformat(), source or source_of(seed)
    return "".join(f"{rid}\t1\t{stamp}\tcreated\t{actor}\t{source}\t{reason}\t{NULL}\n"
                   for rid in ids.residents)


def number_text(ids: Ids, created_at: datetime) -> str:
    stamp = created_at.isoformat()
    return "".join(f"{number}\t{rid}\tissued\t{stamp}\n"
                   for number, rid in zip(ids.personal_ids, ids.residents, strict=True))


def _resident_line(household: Household, person: Person, household_id: int, ids: Ids, position: int,
                   links: str, folded: str, provenance: str, stamp: str) -> str:
    birth = t.PROVINCE_BY_CODE[person.birth_province]
    home = t.PROVINCE_BY_CODE[person.home_town_province]
    cards = _cards(person, ids.personal_ids[position])
    return (
        f"{ids.residents[position]}\t{ids.personal_ids[position]}\t{person.full_name}\t{folded}\t"
        f"{person.dob_year}\t{_opt(person.dob_month)}\t{_opt(person.dob_day)}\t{person.sex}\t"
        f"{birth.name}\t{birth.code}\t{birth.code}\t{home.name}\t{home.code}\t"
        f"{household.ethnic}\t{household.religion}\tVN\t{person.blood}\t{_opt(person.old_id)}\t{cards}\t"
        f"{links}\t{household.province}\t{household.commune}\t{household.address}\t"
        f"{household.province}\t{household.commune}\t{household.address}\t"
        f"{household.residence_file_number}\t{person.marital}\t{household_id}\t{person.relation}\t"
        f"{_opt(person.phone)}\t{_opt(person.email)}\t{provenance}\t1\t{stamp}\t{stamp}\n"
    )


def _relatives(household: Household, index: int, first: int, ids: Ids) -> str:
    members = household.members
    return _json([{"kind": kind, "personal_id": ids.personal_ids[first + other],
                   "full_name": members[other].full_name, "resident_id": ids.residents[first + other]}
                  for kind, other in relatives(household, index)])


def _cards(person: Person, number: str) -> str:
    if person.card_issued is None:
        return "[]"
    return _json([{"number": number, "kind": "CCCD", "issued_on": _iso(person.card_issued),
                   "issued_by": t.CARD_ISSUER, "expires_on": _iso(person.card_expires)}])


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _opt(value: object) -> str:
    return NULL if value is None else str(value)


def _json(value: object) -> str:
    text = orjson.dumps(value).decode()
    return text.replace("\\", "\\\\") if "\\" in text else text
