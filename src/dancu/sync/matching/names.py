"""Name keys for comparing a sector record's name with the registry's.

* folded (``kit.text.fold``): no diacritics — absorbs missing diacritics and old/new tone placement;
* loose (:func:`loose_key`): folded, then Võ→Vũ, Huỳnh→Hoàng, the middle names Văn/Thị dropped, a final
  ``y`` after consonants read as ``i`` (Vy/Vi, Ly/Li), and the words sorted — absorbs regional spellings,
  a dropped middle name and reversed order.  Only used where the ID number already points at the person.

Migration 0005 defines ``sync_name_loose(text)``, the same function in SQL for the registry's side
(tests/sync/test_names.py checks that both agree).
"""

from __future__ import annotations

import re

from dancu.kit.text import fold

SWAPS = {"vo": "vu", "huynh": "hoang"}
DROPPED = frozenset({"van", "thi"})
_CACHE_WORDS = 20_000
_FINAL_Y = re.compile(r"^([^aeiouy]+)y$")


def loose_word(folded_word: str) -> str:
    """One folded word read loosely: Võ→Vũ, Huỳnh→Hoàng, consonant+y → consonant+i."""
    return _FINAL_Y.sub(r"\1i", SWAPS.get(folded_word, folded_word))


def loose_key(folded: str) -> str:
    """The loose key of an already folded name (see the module docstring)."""
    return " ".join(sorted(loose_word(w) for w in folded.split(" ") if w and w not in DROPPED))


class NameFolder:
    """``fold`` with a per-word cache: sector files repeat the same few thousand words millions of times."""

    def __init__(self) -> None:
        self._words: dict[str, str] = {}

    def fold(self, name: str) -> str:
        out = []
        for word in name.split(" "):
            folded = self._words.get(word)
            if folded is None:
                folded = fold(word)
                if len(self._words) < _CACHE_WORDS:  # bounded: memory stays flat on any file
                    self._words[word] = folded
            out.append(folded)
        return " ".join(out)
