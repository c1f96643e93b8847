"""Pure rules of the registry: partial dates, the record as a flat state, diffs and their undoing.

A record's *state* is a flat dict of JSON values keyed by :data:`RECORD_FIELDS`; dates are kept as
partial-date strings ("1950", "1950-03", "1950-03-07").  History rows store ``{field: [old, new]}``
diffs of two states, so undoing them walks a record back in time.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import total_ordering
from typing import Any

MIN_YEAR = 1800
MAX_YEAR = 2399
_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?", re.ASCII)

RESIDENCE_KINDS = ("permanent", "temporary", "current")
RESIDENCE_FIELDS = tuple(
    f"{kind}_{part}" for kind in RESIDENCE_KINDS for part in ("province", "commune", "address")
)
RECORD_FIELDS: tuple[str, ...] = (
    "personal_id",
    "full_name",
    "other_name",
    "date_of_birth",
    "sex",
    "birth_place",
    "birth_place_province",
    "birth_registration_province",
    "birth_registration_commune",
    "birth_registration_place",
    "home_town",
    "home_town_province",
    "ethnic_code",
    "religion_code",
    "nationality_code",
    "blood_type",
    "old_id_number",
    "id_cards",
    "relatives",
    *RESIDENCE_FIELDS,
    "temporary_absence",
    "residence_file_number",
    "marital_status",
    "household_id",
    "relation_to_head",
    "death_kind",
    "death_date",
    "phone",
    "email",
    "sector_ids",
)
DEATH_FIELDS = frozenset({"death_kind", "death_date"})
DEATH_KINDS = ("dead", "missing")


class PartialDateError(ValueError):
    """Text that is not a valid year, year-month or full date."""


@total_ordering
@dataclass(frozen=True)
class PartialDate:
    """A date of which only the year, or the year and month, may be known."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PartialDateError(f"year {self.year} outside {MIN_YEAR}–{MAX_YEAR}")
        if self.day is not None and self.month is None:
            raise PartialDateError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise PartialDateError(f"month {self.month} outside 1–12")
        if self.day is not None and self.month is not None and not (
            1 <= self.day <= calendar.monthrange(self.year, self.month)[1]
        ):
            raise PartialDateError(f"day {self.day} does not exist in {self.year}-{self.month:02d}")

    @classmethod
    def parse(cls, text: object) -> PartialDate:
        if not isinstance(text, str) or not (match := _PARTIAL_DATE.fullmatch(text.strip())):
            raise PartialDateError(f"not YYYY, YYYY-MM or YYYY-MM-DD: {text!r}")
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        return cls(year, month, day)

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        return f"{self.year:04d}-{self.month:02d}" + ("" if self.day is None else f"-{self.day:02d}")

    def key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self.key() < other.key()

    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])

    def can_precede(self, other: PartialDate) -> bool:
        """True unless ``self`` is certainly after ``other`` (partial dates overlap)."""
        return self.earliest() <= other.latest()


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every record field whose value differs."""
    return {f: [old.get(f), new.get(f)] for f in RECORD_FIELDS if old.get(f) != new.get(f)}


def undo(state: dict[str, Any], changes: dict[str, list[Any]]) -> dict[str, Any]:
    """The state before ``changes`` were applied."""
    return {**state, **{field: pair[0] for field, pair in changes.items()}}


def state_as_of(current: dict[str, Any], later_changes: list[dict[str, list[Any]]]) -> dict[str, Any]:
    """Undo ``later_changes`` (newest first) from the current state."""
    state = dict(current)
    for changes in later_changes:
        state = undo(state, changes)
    return state


_PHONE_JUNK = re.compile(r"[\s.\-()]")
_MOBILE = re.compile(r"0[35789][0-9]{8}", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalise_phone(text: str) -> str | None:
    """A Vietnamese mobile number as 10 digits starting 0 (``+84 91 234 5678`` → ``0912345678``)."""
    digits = _PHONE_JUNK.sub("", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


def is_email(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.fullmatch(text) is not None


def is_blocked_by_death(state: dict[str, Any], changed_fields: set[str]) -> bool:
    """A dead or missing resident's record only accepts corrections of the death record itself."""
    return state.get("death_kind") is not None and not changed_fields <= DEATH_FIELDS
