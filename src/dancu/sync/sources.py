"""Sector sources: who sends the file, which sector identifier it adds, how its columns map to resident fields.

Built-in declarations cover health insurance (bhyt), social insurance (bhxh) and personal income tax (thue);
more can be declared in a TOML file (``[[source]]`` tables with the same keys) and passed with ``--sources``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dancu.sync.errors import UnknownSource

#: Resident fields a source may map its columns to, in the order the matcher reads them.
FIELDS: tuple[str, ...] = ("personal_id", "full_name", "date_of_birth", "sex", "province")
#: Fields a source may also map, kept in the normalised record for stage (b) but not compared by stage (a).
OPTIONAL_FIELDS: tuple[str, ...] = ("commune",)
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


@dataclass(frozen=True)
class Source:
    """One sector source.

    ``columns`` maps a resident field (see :data:`FIELDS`, :data:`OPTIONAL_FIELDS`) to the input column that
    holds it;
    ``identifier_column`` holds the sector identifier, stored as ``resident.sector_ids[sector_key]``;
    ``identifier_pattern`` (a regular expression) rejects malformed identifiers.
    """

    code: str
    name: str
    sector_key: str
    identifier_column: str
    columns: Mapping[str, str]
    identifier_pattern: str = r"^\S{1,64}$"
    description: str = ""
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _CODE.match(self.code) or not _CODE.match(self.sector_key):
            raise ValueError(f"source code and sector key must match {_CODE.pattern}: {self.code}, {self.sector_key}")
        unknown = set(self.columns) - set(FIELDS) - set(OPTIONAL_FIELDS)
        if unknown or "full_name" not in self.columns:
            raise ValueError(f"source {self.code}: columns must map full_name and only {FIELDS}: {sorted(unknown)}")
        object.__setattr__(self, "_pattern", re.compile(self.identifier_pattern))

    def valid_identifier(self, value: str) -> bool:
        return self._pattern.match(value) is not None

    def input_columns(self) -> tuple[str | None, ...]:
        """The input column for each of :data:`FIELDS` (None when unmapped), then the identifier's."""
        return (*(self.columns.get(name) for name in FIELDS), self.identifier_column)


_VN_COLUMNS = {"personal_id": "so_dinh_danh", "full_name": "ho_ten", "date_of_birth": "ngay_sinh",
               "sex": "gioi_tinh", "province": "ma_tinh"}

BUILT_IN: dict[str, Source] = {
    s.code: s
    for s in (
        Source("bhyt", "Bảo hiểm y tế — health insurance", "health_insurance_number", "ma_the", _VN_COLUMNS,
               r"^([A-Z]{2}[0-9]{13}|[0-9]{10})$", "Thẻ BHYT (15 ký tự) hoặc mã số BHXH 10 số"),
        Source("bhxh", "Bảo hiểm xã hội — social insurance", "social_insurance_number", "ma_so_bhxh",
               _VN_COLUMNS, r"^[0-9]{10}$", "Mã số BHXH 10 số"),
        Source("thue", "Thuế thu nhập cá nhân — personal income tax", "tax_code", "mst",
               _VN_COLUMNS, r"^[0-9]{10}([0-9]{3})?$", "Mã số thuế cá nhân 10 (hoặc 13) số"),
    )
}


def load_file(path: Path) -> dict[str, Source]:
    """Sources declared in a TOML file: ``[[source]]`` tables with ``code``, ``name``, ``sector_key``,
    ``identifier_column``, ``columns`` (a table) and optionally ``identifier_pattern``, ``description``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {s.code: s for s in (_from_table(table) for table in data.get("source", []))}


def _from_table(table: dict[str, Any]) -> Source:
    return Source(**{key: table[key] for key in table if key in Source.__dataclass_fields__ and key != "_pattern"})


def all_sources(extra: Path | None = None) -> dict[str, Source]:
    return {**BUILT_IN, **(load_file(extra) if extra else {})}


def get(code: str, extra: Path | None = None) -> Source:
    found = all_sources(extra).get(code)
    if found is None:
        raise UnknownSource(code)
    return found
