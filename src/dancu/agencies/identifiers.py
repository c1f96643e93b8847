"""X-Road style identifiers (``INSTANCE/CLASS/CODE[/SUBSYSTEM]``), so a system is named the same everywhere.

Pure parsing, no I/O.  Each part uses only ``A–Z a–z 0–9`` and ``'()+,-.=?`` (X-Road PR-REST §4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PART = re.compile(r"[A-Za-z0-9'()+,\-.=?]{1,64}", re.ASCII)
PART_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'()+,-.=?"


class InvalidIdentifier(ValueError):
    """The text is not a well-formed member or subsystem identifier."""


@dataclass(frozen=True, order=True)
class MemberId:
    instance: str
    member_class: str
    member_code: str

    def __str__(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}"


@dataclass(frozen=True, order=True)
class SystemId:
    instance: str
    member_class: str
    member_code: str
    subsystem: str

    @property
    def member(self) -> MemberId:
        return MemberId(self.instance, self.member_class, self.member_code)

    def __str__(self) -> str:
        return f"{self.member}/{self.subsystem}"


def check_part(name: str, value: str) -> str:
    """``value`` when it is a valid identifier part, else :class:`InvalidIdentifier` naming ``name``."""
    if not PART.fullmatch(value):
        raise InvalidIdentifier(f"{name} must be 1–64 of A–Z a–z 0–9 '()+,-.=? — got {value!r}")
    return value


def _parts(text: str, count: int) -> list[str]:
    parts = text.split("/")
    if len(parts) != count:
        raise InvalidIdentifier(f"expected {count} parts separated by '/', got {len(parts)} in {text!r}")
    names = ("instance", "member class", "member code", "subsystem")
    return [check_part(names[i], part) for i, part in enumerate(parts)]


def parse_member(text: str) -> MemberId:
    """``INSTANCE/CLASS/CODE`` → :class:`MemberId`."""
    return MemberId(*_parts(text, 3))


def parse_system(text: str) -> SystemId:
    """``INSTANCE/CLASS/CODE/SUBSYSTEM`` → :class:`SystemId`."""
    return SystemId(*_parts(text, 4))
