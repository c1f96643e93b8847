"""The 12-digit personal identification number (số định danh cá nhân).

Nghị định 137/2015 Điều 13 and Thông tư 07/2016/TT-BCA Điều 7:

* digits 1–3: birth-registration province code, or country code for those born abroad;
* digit 4: century and sex — 1900s male 0 / female 1, 2000s 2/3, 2100s 4/5, 2200s 6/7, 2300s 8/9;
* digits 5–6: last two digits of the birth year;
* digits 7–12: random.

New numbers are issued from a per-prefix counter passed through a keyed permutation of the
6-digit space, so numbers look random, cannot be guessed in order, and never collide.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MALE = "1"  # ISO 5218 sex codes, as in the "sex" catalogue
FEMALE = "2"
FIRST_CENTURY = 1900
LAST_YEAR = 2399
SERIAL_SPACE = 1_000_000
_DIGITS12 = re.compile(r"^[0-9]{12}$")


class IdNumberError(ValueError):
    """A rule the number breaks, with a stable code."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


@dataclass(frozen=True)
class IdNumber:
    place_code: str
    century_sex_digit: int
    year_digits: int
    serial: str

    @property
    def number(self) -> str:
        return f"{self.place_code}{self.century_sex_digit}{self.year_digits:02d}{self.serial}"

    @property
    def sex(self) -> str:
        return FEMALE if self.century_sex_digit % 2 else MALE

    @property
    def birth_year(self) -> int:
        return FIRST_CENTURY + 100 * (self.century_sex_digit // 2) + self.year_digits


def century_sex_digit(birth_year: int, sex: str) -> int:
    if not FIRST_CENTURY <= birth_year <= LAST_YEAR:
        raise IdNumberError("birth_year_out_of_range", f"Năm sinh {birth_year} ngoài khoảng 1900–2399.",
                            f"Birth year {birth_year} is outside 1900–2399.")
    if sex not in (MALE, FEMALE):
        raise IdNumberError("sex_unknown", "Cần biết giới tính (nam/nữ) để lập số định danh.",
                            "Sex (male/female) is needed to form the ID number.")
    return 2 * ((birth_year - FIRST_CENTURY) // 100) + (1 if sex == FEMALE else 0)


def prefix_for(place_code: str, birth_year: int, sex: str) -> str:
    """The first six digits, fixed by birth place, century, sex and birth year."""
    return f"{place_code}{century_sex_digit(birth_year, sex)}{birth_year % 100:02d}"


def parse(number: str) -> IdNumber:
    """Split a number into its parts; checks the form only (12 digits)."""
    if not _DIGITS12.match(number):
        raise IdNumberError("id_number_format", "Số định danh cá nhân phải gồm đúng 12 chữ số.",
                            "A personal ID number must be exactly 12 digits.")
    return IdNumber(number[:3], int(number[3]), int(number[4:6]), number[6:])


def check(number: str, *, place_codes: frozenset[str], birth_year: int | None = None,
          sex: str | None = None) -> IdNumber:
    """Parse and check a number against the place catalogue and, when given, the record's year and sex."""
    parsed = parse(number)
    if parsed.place_code not in place_codes:
        raise IdNumberError("id_number_place",
                            f"Mã nơi đăng ký khai sinh '{parsed.place_code}' không có trong danh mục.",
                            f"Place code '{parsed.place_code}' is not in the catalogue.")
    if birth_year is not None and parsed.birth_year != birth_year:
        raise IdNumberError("id_number_birth_year",
                            f"Số định danh mã hóa năm sinh {parsed.birth_year}, hồ sơ ghi {birth_year}.",
                            f"The number encodes birth year {parsed.birth_year}; "
                            f"the record says {birth_year}.")
    if sex in (MALE, FEMALE) and parsed.sex != sex:
        raise IdNumberError("id_number_sex", "Chữ số thế kỷ/giới tính không khớp giới tính trong hồ sơ.",
                            "The century/sex digit does not match the record's sex.")
    return parsed


def scramble(sequence: int, key: bytes, prefix: str) -> str:
    """Map a counter value to a 6-digit serial: a keyed bijection on 0..999,999 (Feistel + cycle walking)."""
    if not 0 <= sequence < SERIAL_SPACE:
        raise IdNumberError("id_number_exhausted", f"Đã hết số cho tiền tố {prefix}.",
                            f"No numbers left for prefix {prefix}.")
    round_key = hashlib.blake2b(prefix.encode(), key=key[:64], digest_size=32).digest()
    value = sequence
    while True:
        value = _feistel(value, round_key)
        if value < SERIAL_SPACE:
            return f"{value:06d}"


def _feistel(value: int, key: bytes, rounds: int = 4) -> int:
    """A balanced Feistel network over 20 bits (2^20 > 10^6), so it is a permutation of 0..2^20-1."""
    left, right = value >> 10, value & 0x3FF
    for round_no in range(rounds):
        digest = hashlib.blake2b(right.to_bytes(2, "big") + bytes([round_no]), key=key, digest_size=2)
        left, right = right, left ^ (int.from_bytes(digest.digest(), "big") & 0x3FF)
    return (left << 10) | right
