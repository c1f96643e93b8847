"""Normalise one sector record into the columns staged for matching, or the reasons it is rejected.

Rejected (the line cannot be used): unparseable line, no name, no or impossible date of birth, missing or
malformed sector identifier.  Notes (kept, explained to the reviewer): ID missing or malformed, ID
encoding another birth year or sex, day and month swapped, old 63-province code, unknown sex or province.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass

from dancu.kit.text import clean
from dancu.registry.id_number import FIRST_CENTURY
from dancu.sync.matching.names import NameFolder, loose_key
from dancu.sync.sources import Source

_ID_JUNK = re.compile(r"[\s.\-]")
_DIGITS12 = re.compile(r"^[0-9]{12}$")
_ISO = re.compile(r"^([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?$")
_DMY = re.compile(r"^(?:(?:([0-9]{1,2})[/.-])?([0-9]{1,2})[/.-])?([0-9]{4})$")
_SEX = {"1": "1", "2": "2", "nam": "1", "nu": "2", "nữ": "2", "m": "1", "f": "2", "male": "1", "female": "2"}
ProvinceMap = Callable[[str], tuple[str | None, str | None]]  # code -> (34-province code, note)


@dataclass(frozen=True, slots=True)
class Staged:
    personal_id: str | None = None
    full_name: str | None = None
    name_folded: str | None = None
    name_loose: str | None = None
    dob: tuple[int, int | None, int | None] | None = None
    sex: str | None = None
    province: str | None = None
    sector_value: str | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Normaliser:
    """Turns a source's raw values (ordered as ``Source.input_columns()``) into :class:`Staged` records."""

    def __init__(self, source: Source, province: ProvinceMap, current_year: int = 2100) -> None:
        self.source, self.province, self.current_year = source, province, current_year
        self.names = NameFolder()

    def __call__(self, values: tuple[str | None, ...]) -> Staged:
        raw_id, raw_name, raw_dob, raw_sex, raw_province, raw_value = (v.strip() if v else "" for v in values)
        if any("\x00" in v for v in (raw_id, raw_name, raw_dob, raw_sex, raw_province, raw_value)):
            return Staged(problems=("nul_character",))
        problems: list[str] = []
        notes: list[str] = []
        name = clean(raw_name) if raw_name else ""
        folded = self.names.fold(name) if name else None
        if not folded:
            problems.append("name_missing")
        dob = self._dob(raw_dob, problems, notes)
        value = raw_value or None
        if value is None:
            problems.append("identifier_missing")
        elif not self.source.valid_identifier(value):
            problems.append("identifier_malformed")
        sex = _SEX.get(raw_sex.lower()) if raw_sex else None
        if raw_sex and sex is None:
            notes.append("sex_unknown")
        personal_id = _personal_id(raw_id, dob, sex, notes)
        province, note = self.province(raw_province) if raw_province else (None, None)
        if note:
            notes.append(note)
        return Staged(personal_id, name or None, folded, loose_key(folded) if folded else None, dob, sex, province,
                      value, tuple(problems), tuple(notes))

    def _dob(self, text: str, problems: list[str], notes: list[str]) -> tuple[int, int | None, int | None] | None:
        if not text:
            problems.append("date_of_birth_missing")
            return None
        parsed = parse_date(text)
        if parsed is None:
            problems.append("date_of_birth_invalid")
            return None
        year, month, day, swapped = parsed
        if not FIRST_CENTURY <= year <= self.current_year:
            problems.append("date_of_birth_invalid")
            return None
        if swapped:
            notes.append("dob_day_month_swapped")
        return year, month, day


def parse_date(text: str) -> tuple[int, int | None, int | None, bool] | None:
    """(year, month, day, swapped) from ``YYYY[-MM[-DD]]`` or ``[[DD/]MM/]YYYY``; a month over 12 with a day
    of 12 or less is read as day and month swapped.  None for anything else or an impossible date."""
    iso = _ISO.match(text)
    if iso:
        year, month, day = (int(p) if p else None for p in iso.groups())
    else:
        dmy = _DMY.match(text)
        if dmy is None:
            return None
        day, month, year = (int(p) if p else None for p in dmy.groups())
    assert year is not None
    swapped = month is not None and day is not None and month > 12 >= day
    if swapped:
        month, day = day, month
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and (month is None or not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return year, month, day, swapped


def _personal_id(raw: str, dob: tuple[int, int | None, int | None] | None, sex: str | None,
                 notes: list[str]) -> str | None:
    number = _ID_JUNK.sub("", raw)
    if not number:
        notes.append("id_missing")
        return None
    if not _DIGITS12.match(number):
        notes.append("id_malformed")
        return None
    digit = int(number[3])
    if dob is not None and FIRST_CENTURY + 100 * (digit // 2) + int(number[4:6]) != dob[0]:
        notes.append("id_encodes_other_birth_year")
    if sex is not None and ("2" if digit % 2 else "1") != sex:
        notes.append("id_encodes_other_sex")
    return number
