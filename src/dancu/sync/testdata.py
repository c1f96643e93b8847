"""Sector files made from the project's own synthetic population, with realistic noise, labelled with the true
resident — for tests, the ID benchmark, and (step 2) the demographic-matching comparison with Splink.

Noise kinds (one per record, ``clean`` when a kind does not apply to that person):
ID missing, one digit mistyped, two adjacent digits swapped, the ID of a relative in the same household;
name without diacritics, the other tone placement (hoà/hòa), Vũ/Võ, Hoàng/Huỳnh, Văn/Thị dropped, family name
last; date of birth with the year only, day and month swapped; an old 63-province code instead of the new one.

For demographic matching (stage b) a record can carry a second, demographic noise on top of the first
(``extra_rate``: a record without its ID *and* without diacritics), plus two more kinds: ``name_typo`` (one
letter of the given name replaced) and ``not_in_registry`` (a person the registry does not hold: other given name,
other date of birth, no ID — labelled resident_id 0, the right answer is "unmatched").
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg

from dancu.sync.sources import FIELDS, Source
from dancu.synth import names as synth_names
from dancu.synth import tables as synth_tables

NOISE_KINDS: tuple[str, ...] = (
    "id_missing", "id_digit", "id_swap", "id_relative", "no_diacritics", "old_tone", "vu_vo", "hoang_huynh",
    "drop_middle", "reversed", "dob_year_only", "dob_swapped", "old_province",
)
ID_KINDS: tuple[str, ...] = ("id_missing", "id_digit", "id_swap", "id_relative")
DEMOGRAPHIC_KINDS: tuple[str, ...] = (
    "no_diacritics", "old_tone", "vu_vo", "hoang_huynh", "drop_middle", "reversed", "dob_year_only", "dob_swapped",
    "old_province", "name_typo",
)
NOT_IN_REGISTRY = "not_in_registry"
_TYPO_LETTERS = "aăâeêioôơuưynhmtcg"
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_PAIRS = (("o", "a"), ("o", "e"), ("u", "y"))
_OLD_CODES: dict[str, list[str]] = {}
for _p in synth_tables.PROVINCES:
    _OLD_CODES.setdefault(_p.new_code, []).append(_p.code)


@dataclass(frozen=True, slots=True)
class TrueResident:
    resident_id: int
    personal_id: str
    full_name: str
    dob: tuple[int, int | None, int | None]
    sex: str
    province: str | None
    relatives: tuple[str, ...]  # personal IDs of parents, spouse, children in the registry


@dataclass(frozen=True, slots=True)
class Labelled:
    values: dict[str, str]  # input column -> text
    resident_id: int
    noise: str


def fetch_residents(conn: psycopg.Connection, *, limit: int, where: str = "TRUE",
                    params: dict[str, Any] | None = None) -> Iterator[TrueResident]:
    """Residents from the registry (streamed with a server-side cursor), ordered by resident_id."""
    sql = f"""SELECT resident_id, personal_id, full_name, dob_year, dob_month, dob_day, sex, permanent_province,
                     (SELECT coalesce(array_agg(r ->> 'personal_id'), '{{}}') FROM jsonb_array_elements(relatives) r
                      WHERE r ->> 'personal_id' IS NOT NULL)
              FROM resident WHERE {where} ORDER BY resident_id LIMIT %(limit)s"""
    with conn.cursor(name="sync_testdata") as cur:
        cur.itersize = 10_000
        cur.execute(sql, {**(params or {}), "limit": limit})
        for rid, pid, name, year, month, day, sex, province, relatives in cur:
            yield TrueResident(rid, pid, name, (year, month, day), sex, province, tuple(relatives))


def identifier(source: Source, resident_id: int) -> str:
    """A plausible, unique sector identifier for a resident (matches the built-in sources' patterns)."""
    number = (resident_id * 7_919 + 13) % 10**10
    card = f"GD4{number % 100:02d}{number:010d}"
    return card if source.valid_identifier(card) else f"8{number % 10**9:09d}"


def generate(residents: Iterable[TrueResident], source: Source, *, seed: int, noise_rate: float = 0.3,
             kinds: tuple[str, ...] = NOISE_KINDS, extra_rate: float = 0.0,
             extra_kinds: tuple[str, ...] = DEMOGRAPHIC_KINDS, absent_rate: float = 0.0) -> Iterator[Labelled]:
    """One record per resident; a share ``noise_rate`` of them carries one noise kind drawn from ``kinds``, and
    a share ``extra_rate`` of those a second one from ``extra_kinds``; a share ``absent_rate`` of the records
    is replaced by a person not in the registry."""
    rng = random.Random(f"dancu-sync-testdata:{seed}")
    for resident in residents:
        if absent_rate and rng.random() < absent_rate:
            yield record(rng, resident, NOT_IN_REGISTRY, source)
            continue
        kind = rng.choice(kinds) if kinds and rng.random() < noise_rate else "clean"
        if kind != "clean" and extra_rate and rng.random() < extra_rate:
            kind = f"{kind}+{rng.choice([k for k in extra_kinds if k != kind])}"
        yield record(rng, resident, kind, source)


def record(rng: random.Random, resident: TrueResident, kind: str, source: Source) -> Labelled:
    """A record of ``resident`` with the noise kinds of ``kind`` ("a+b" applies both); the label says which
    kinds actually changed something ("clean" if none)."""
    fields = {"personal_id": resident.personal_id, "full_name": resident.full_name,
              "date_of_birth": _date_text(resident.dob), "sex": "Nam" if resident.sex == "1" else "Nữ",
              "province": resident.province or ""}
    chosen, applied = dict(fields), []
    for one in kind.split("+"):
        noisy = _NOISE[one](rng, resident, dict(chosen)) if one in _NOISE else None
        if noisy is not None and noisy != chosen:
            chosen = noisy
            applied.append(one)
    values = {source.columns[f]: chosen[f] for f in FIELDS if f in source.columns}
    values[source.identifier_column] = identifier(source, resident.resident_id)
    truth = 0 if NOT_IN_REGISTRY in applied else resident.resident_id
    return Labelled(values, truth, "+".join(applied) or "clean")


def write(path: Path, source: Source, records: Iterable[Labelled], labels: Path | None = None, *,
          row_group: int = 50_000) -> int:
    """Write a CSV, JSON Lines or Parquet file (by suffix) and, optionally, a CSV of line_no,resident_id,noise.

    Parquet: string columns, an empty value as null, ``row_group`` records per row group (written as they come:
    memory holds one row group)."""
    columns = [c for c in source.input_columns() if c is not None]
    out = _out(path, columns, row_group)
    count = 0
    with out, (labels.open("w", newline="", encoding="utf-8") if labels else nullcontext()) as label_stream:
        label_writer = csv.writer(label_stream) if label_stream else None
        for item in records:
            count += 1
            out.add(item.values)
            if label_writer:
                label_writer.writerow([count + out.header_lines, item.resident_id, item.noise])
    return count


class _Out:
    """One sector file being written, record by record."""

    header_lines = 1  # lines before the first record (a record's line is its index + 1 + this)

    def __enter__(self) -> _Out:
        return self

    def __exit__(self, *exc: object) -> None:
        raise NotImplementedError

    def add(self, values: dict[str, str]) -> None:
        raise NotImplementedError


class _TextOut(_Out):
    def __init__(self, path: Path, columns: list[str]) -> None:
        self.columns = columns
        self.stream = path.open("w", newline="", encoding="utf-8")

    def __exit__(self, *exc: object) -> None:
        self.stream.close()


class _CsvOut(_TextOut):
    def __init__(self, path: Path, columns: list[str]) -> None:
        super().__init__(path, columns)
        self.writer = csv.writer(self.stream)
        self.writer.writerow(columns)

    def add(self, values: dict[str, str]) -> None:
        self.writer.writerow([values.get(c, "") for c in self.columns])


class _JsonlOut(_TextOut):
    header_lines = 0

    def add(self, values: dict[str, str]) -> None:
        self.stream.write(orjson.dumps(values).decode() + "\n")


class _ParquetOut(_Out):
    def __init__(self, path: Path, columns: list[str], row_group: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.columns, self.row_group, self.pa = columns, row_group, pa
        self.writer = pq.ParquetWriter(path, pa.schema([(c, pa.string()) for c in columns]))
        self.pending: list[dict[str, str]] = []

    def __exit__(self, *exc: object) -> None:
        self._flush()
        self.writer.close()

    def add(self, values: dict[str, str]) -> None:
        self.pending.append(values)
        if len(self.pending) >= self.row_group:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(self.pa.table({c: [v.get(c) or None for v in self.pending] for c in self.columns}))
            self.pending = []


def _out(path: Path, columns: list[str], row_group: int) -> _Out:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _ParquetOut(path, columns, row_group)
    return _CsvOut(path, columns) if suffix == ".csv" else _JsonlOut(path, columns)


def _date_text(dob: tuple[int, int | None, int | None]) -> str:
    year, month, day = dob
    if month is None:
        return f"{year:04d}"
    return f"{month:02d}/{year:04d}" if day is None else f"{day:02d}/{month:02d}/{year:04d}"


# -- noise kinds: each returns the changed fields, or None when it does not apply --------------------------------


def _id_missing(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    return {**f, "personal_id": ""}


def _id_digit(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    at = rng.randrange(12)
    digit = rng.choice([d for d in "0123456789" if d != r.personal_id[at]])
    return {**f, "personal_id": r.personal_id[:at] + digit + r.personal_id[at + 1:]}


def _id_swap(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    pid = r.personal_id
    places = [i for i in range(11) if pid[i] != pid[i + 1]]
    if not places:
        return None
    i = rng.choice(places)
    return {**f, "personal_id": pid[:i] + pid[i + 1] + pid[i] + pid[i + 2:]}


def _id_relative(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    return {**f, "personal_id": rng.choice(r.relatives)} if r.relatives else None


def _no_diacritics(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    bare = unicodedata.normalize("NFD", f["full_name"].replace("Đ", "D").replace("đ", "d"))
    return {**f, "full_name": "".join(c for c in bare if not unicodedata.combining(c))}


def _swap_tone(word: str) -> str:
    """Move the tone of a final oa/oe/uy between the two vowels (hoà ↔ hòa, thuỷ ↔ thủy)."""
    decomposed = unicodedata.normalize("NFD", word)
    tone = next((c for c in decomposed if c in _TONES), None)
    if tone is None:
        return word
    bare = decomposed.replace(tone, "")
    for first, second in _PAIRS:
        if bare.lower().endswith(first + second):
            on_first = decomposed.lower().endswith(first + tone + second)
            cut = len(bare) - 1
            moved = bare[:cut] + tone + bare[cut:] if not on_first else bare + tone
            return unicodedata.normalize("NFC", moved)
    return word


def _old_tone(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    return {**f, "full_name": " ".join(_swap_tone(w) for w in f["full_name"].split(" "))}


def _word_swap(pairs: dict[str, str]) -> Any:
    def noise(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
        return {**f, "full_name": " ".join(pairs.get(w, w) for w in f["full_name"].split(" "))}
    return noise


def _drop_middle(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    words = f["full_name"].split(" ")
    kept = [w for i, w in enumerate(words) if not (0 < i < len(words) - 1 and w in ("Văn", "Thị"))]
    return {**f, "full_name": " ".join(kept)}


def _reversed(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    words = f["full_name"].split(" ")
    return {**f, "full_name": " ".join([*words[1:], words[0]])} if len(words) > 1 else None


def _dob_year_only(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    return {**f, "date_of_birth": f"{r.dob[0]:04d}"}


def _dob_swapped(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    year, month, day = r.dob
    if month is None or day is None or day > 12 or day == month:
        return None
    return {**f, "date_of_birth": f"{month:02d}/{day:02d}/{year:04d}"}


def _old_province(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    olds = [c for c in _OLD_CODES.get(r.province or "", []) if c != r.province]
    return {**f, "province": rng.choice(olds)} if olds else None


def _name_typo(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    words = f["full_name"].split(" ")
    given = words[-1]
    if len(words) < 2 or len(given) < 3:
        return None
    at = rng.randrange(1, len(given))
    letter = rng.choice([c for c in _TYPO_LETTERS if c != given[at].lower()])
    return {**f, "full_name": " ".join([*words[:-1], given[:at] + letter + given[at + 1:]])}


def _not_in_registry(rng: random.Random, r: TrueResident, f: dict[str, str]) -> dict[str, str] | None:
    """Someone else: another given name and date of birth, no ID (keeps family name, province, sex)."""
    words = f["full_name"].split(" ")
    given = rng.choice(synth_names.GIVEN_MALE if r.sex == "1" else synth_names.GIVEN_FEMALE)
    year = r.dob[0] + rng.choice((-7, -5, -3, 3, 5, 7))
    return {**f, "personal_id": "", "full_name": " ".join([*words[:-1], given]),
            "date_of_birth": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year:04d}"}


_NOISE = {
    "id_missing": _id_missing, "id_digit": _id_digit, "id_swap": _id_swap, "id_relative": _id_relative,
    "no_diacritics": _no_diacritics, "old_tone": _old_tone, "vu_vo": _word_swap({"Vũ": "Võ", "Võ": "Vũ"}),
    "hoang_huynh": _word_swap({"Hoàng": "Huỳnh", "Huỳnh": "Hoàng"}), "drop_middle": _drop_middle,
    "reversed": _reversed, "dob_year_only": _dob_year_only, "dob_swapped": _dob_swapped,
    "old_province": _old_province, "name_typo": _name_typo, NOT_IN_REGISTRY: _not_in_registry,
}
