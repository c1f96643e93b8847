"""What a signed-in citizen may see, by assurance level (pure rules, no I/O).

* Level 1 — an e-ID account registered online without an in-person check: **basic identity only**, the four
  fields that identify a person and that a level-1 VNeID account itself shows: personal ID number, full name,
  date of birth, sex. No household, relatives, addresses, download, access history or corrections.
* Level 2 — an e-ID account verified in person (chip ID card), and the portal's own account (ID, name, date of
  birth and registered phone checked against the record, then a code sent to that phone at every login):
  the whole record, household, downloads, who used my data, correction requests.
"""

from __future__ import annotations

from enum import StrEnum

BASIC_FIELDS = ("personal_id", "full_name", "date_of_birth", "sex")
FULL = 2
PORTAL_ACCOUNT_LEVEL = FULL


class Action(StrEnum):
    VIEW_BASIC = "view_basic"
    VIEW_RECORD = "view_record"
    HOUSEHOLD = "household"
    DOWNLOAD = "download"
    HISTORY = "history"
    CORRECT = "correct"


def allows(level: int | None, action: Action) -> bool:
    if level is None or level < 1:
        return False
    return action is Action.VIEW_BASIC or level >= FULL


def visible_fields(level: int | None, fields: dict[str, object]) -> dict[str, object]:
    """The part of a record's fields the level may see (in the record's order)."""
    if allows(level, Action.VIEW_RECORD):
        return dict(fields)
    if allows(level, Action.VIEW_BASIC):
        return {name: value for name, value in fields.items() if name in BASIC_FIELDS}
    return {}
