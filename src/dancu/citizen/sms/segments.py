"""Splitting a reply into SMS segments (3GPP TS 23.038 / 23.040), pure functions.

GSM 7-bit: 160 septets in one SMS, 153 per part when concatenated (the 6-octet UDH takes 7 septets);
characters of the extension table cost two septets (escape + char) and are never split.
UCS-2: 70 UTF-16 code units alone, 67 per part; a surrogate pair is never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E,
                  "|": 0x40, "€": 0x65}
_BASIC_CODE = {ch: i for i, ch in enumerate(GSM7_BASIC) if ch != "\x1b"}
ESCAPE = 0x1B


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


LIMITS = {Encoding.GSM7: (160, 153), Encoding.UCS2: (70, 67)}
DATA_CODING = {Encoding.GSM7: 0x00, Encoding.UCS2: 0x08}


@dataclass(frozen=True)
class Segmented:
    encoding: Encoding
    parts: tuple[str, ...]


def encoding_for(text: str) -> Encoding:
    return Encoding.GSM7 if all(ch in _BASIC_CODE or ch in GSM7_EXTENSION for ch in text) else Encoding.UCS2


def unit_cost(ch: str, encoding: Encoding) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) that one character takes."""
    if encoding is Encoding.GSM7:
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def length(text: str, encoding: Encoding) -> int:
    return sum(unit_cost(ch, encoding) for ch in text)


def split(text: str) -> Segmented:
    """The parts of ``text``: one if it fits a single SMS, else as many concatenated parts as needed."""
    encoding = encoding_for(text)
    single, multi = LIMITS[encoding]
    if length(text, encoding) <= single:
        return Segmented(encoding, (text,))
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        cost = unit_cost(ch, encoding)
        if used + cost > multi:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += cost
    parts.append("".join(current))
    return Segmented(encoding, tuple(parts))


def encode(part: str, encoding: Encoding) -> bytes:
    """The octets of one part as SMPP carries them: GSM-7 unpacked (one septet per octet), UCS-2 big-endian."""
    if encoding is Encoding.UCS2:
        return part.encode("utf-16-be")
    out = bytearray()
    for ch in part:
        if ch in GSM7_EXTENSION:
            out += bytes((ESCAPE, GSM7_EXTENSION[ch]))
        else:
            out.append(_BASIC_CODE[ch])
    return bytes(out)


def decode_gsm7(octets: bytes) -> str:
    reverse_ext = {code: ch for ch, code in GSM7_EXTENSION.items()}
    out, escaped = [], False
    for octet in octets:
        if escaped:
            out.append(reverse_ext.get(octet, " "))
            escaped = False
        elif octet == ESCAPE:
            escaped = True
        else:
            out.append(GSM7_BASIC[octet & 0x7F])
    return "".join(out)


def concat_udh(reference: int, total: int, index: int) -> bytes:
    """The 8-bit-reference concatenation header (IEI 0x00) of part ``index`` (1-based) of ``total``."""
    return bytes((0x05, 0x00, 0x03, reference & 0xFF, total, index))
