"""Vietnamese-aware text normalisation.

Three strengths, from strict to loose:

* :func:`clean` — what we store: Unicode NFC, look-alike letters unified (Ð/ð → Đ/đ), spaces collapsed.
* :func:`exact_key` — what "no fuzzy yes" compares: :func:`clean`, lower case, and the tone mark
  moved to a canonical place in each syllable, so old and new tone placement (``hoà``/``hòa``,
  ``thuỷ``/``thủy``) compare equal while every letter and tone still has to agree.
* :func:`fold` — what search and blocking use: no diacritics at all, ``đ`` → ``d``, lower case.
"""

from __future__ import annotations

import re
import unicodedata

# Tone marks (dấu thanh) as combining characters after NFD: huyền, sắc, ngã, hỏi, nặng.
TONE_MARKS = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}
_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110", "\u0256": "\u0111"})
_SPACES = re.compile(r"\s+")
_FOLD_EXTRA = str.maketrans({"\u0111": "d", "\u0110": "d"})


def clean(text: str) -> str:
    """NFC, look-alike Đ unified, surrounding and repeated whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text.translate(_LOOKALIKES))).strip()


def _syllable_key(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [TONE_MARKS[ch] for ch in decomposed if ch in TONE_MARKS]
    bare = "".join(ch for ch in decomposed if ch not in TONE_MARKS)
    # A syllable carries at most one tone; two marks mean a typing slip we must not paper over.
    return unicodedata.normalize("NFC", bare) + "".join(tones)


def exact_key(text: str) -> str:
    """Comparable form that ignores case, spacing and tone-mark placement, nothing else."""
    return " ".join(_syllable_key(s) for s in clean(text).lower().split(" ") if s)


def fold(text: str) -> str:
    """Strip every diacritic (tone and vowel shape), map đ → d, lower case, collapse spaces."""
    lowered = clean(text).lower().translate(_FOLD_EXTRA)
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)
