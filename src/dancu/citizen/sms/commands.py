"""The SMS command syntax, parsed by a pure function that never raises.

Syntax (keyword ``DC`` optional, any case, any spacing, with or without Vietnamese marks):

* ``DC <số định danh>`` or ``DC TT <số định danh>`` — my record (thông tin);
* ``DC LS <số định danh>`` / ``DC LICHSU …`` / ``DC lịch sử …`` — who used my data (lịch sử);
* ``DC HD`` / ``DC HUONGDAN`` / ``DC hướng dẫn`` / ``HELP`` / ``DC`` alone — help (hướng dẫn).

The 12 digits may be split by spaces, dots or dashes (``001 085 012345``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dancu.kit.text import fold

ID_LENGTH = 12
_KEYWORDS = ("dancu", "dc")
_HELP = ("hd", "huongdan", "help", "trogiup", "?")
_HISTORY = ("ls", "lichsu")
_RECORD = ("tt", "thongtin", "tc", "tracuu")
_NON_WORD = re.compile(r"[^0-9a-z?]+")


class Kind(StrEnum):
    RECORD = "record"
    HISTORY = "history"
    HELP = "help"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Command:
    kind: Kind
    personal_id: str | None = None
    reason: str | None = None  # why a command is malformed: "empty", "unknown_keyword", "bad_id"


def _words(text: str) -> list[str]:
    """Folded words: no marks, lower case, punctuation as spaces; "lich su" glued to "lichsu"."""
    folded = _NON_WORD.sub(" ", fold(text.replace("\x00", " ")))
    joined = re.sub(r"\b(lich) (su)\b|\b(huong) (dan)\b|\b(thong) (tin)\b|\b(tra) (cuu)\b|\b(dan) (cu)\b|"
                    r"\b(tro) (giup)\b", lambda m: "".join(g for g in m.groups() if g), folded)
    return joined.split()


def _personal_id(words: list[str]) -> str | None:
    if not words or not all(w.isdigit() for w in words):
        return None
    number = "".join(words)
    return number if len(number) == ID_LENGTH else None


def _with_id(kind: Kind, words: list[str]) -> Command:
    number = _personal_id(words)
    return Command(kind, number) if number else Command(Kind.MALFORMED, reason="bad_id")


def parse(text: str) -> Command:
    """Classify an inbound SMS; any text whatsoever gives a Command."""
    words = _words(text)
    if words and words[0] in _KEYWORDS:
        words = words[1:]
    if not words:
        return Command(Kind.HELP) if _words(text) else Command(Kind.MALFORMED, reason="empty")
    head, rest = words[0], words[1:]
    if head in _HELP:
        return Command(Kind.HELP)
    if head in _HISTORY:
        return _with_id(Kind.HISTORY, rest)
    if head in _RECORD:
        return _with_id(Kind.RECORD, rest)
    if head.isdigit():
        return _with_id(Kind.RECORD, words)
    return Command(Kind.MALFORMED, reason="unknown_keyword")
