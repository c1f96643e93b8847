"""Loading the catalogue data files into the database, one new version per changed file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from dancu.catalogs import names
from dancu.catalogs import repository as repo
from dancu.catalogs.repository import EntryRow, VersionRow

DATA_DIR = Path(__file__).parent / "data"
SOURCES: dict[str, str] = {
    names.SEX: "ISO/IEC 5218",
    names.BLOOD_TYPE: "ABO × Rh(D)",
    names.MARITAL_STATUS: "Luật Hôn nhân và gia đình; codes assigned by dancu",
    names.RELATION_TO_HEAD: "household registration practice; codes assigned by dancu",
    names.RELATIVE_KIND: "Luật Căn cước 2023 Điều 9 khoản 15",
    names.ETHNIC_GROUP: "QĐ 1019/QĐ-TCTK (2008); QCVN 109:2017/BTTTT Phụ lục E",
    names.ETHNIC_GROUP_1979: "QĐ 121-TCTK/PPCĐ (1979)",
    names.RELIGION: "QCVN 109:2017/BTTTT Phụ lục G; 00 added by dancu",
    names.COUNTRY: "ISO 3166-1 (iso-codes via pycountry)",
    names.PROVINCE_63: "Thông tư 07/2016/TT-BCA Phụ lục 1",
    names.PROVINCE: "QĐ 19/2025/QĐ-TTg; NQ 202/2025/QH15",
    names.COMMUNE: "Cục Thống kê (NSO) list of communes from 2025-07-01",
    names.COMMUNE_63: "GSO list of communes until 2025-06-30 (via vietnamadminunits 1.0.4)",
    names.ETHNIC_1979_TO_2008: "dancu build_mapping (name matching)",
    names.PROVINCE_63_TO_34: "NQ 202/2025/QH15 (merged provinces)",
    names.COMMUNE_63_TO_2025: "2025 resolutions of the NA Standing Committee on communes (via vietnamadminunits 1.0.4)",
}


class DataFileError(ValueError):
    """A data file that cannot be loaded (a developer error, caught by the tests)."""


@dataclass(frozen=True)
class Change:
    name: str
    kind: str  # "catalog" or "mapping"
    status: str  # "unchanged", "created", "updated" or "missing"
    version: str | None = None
    added: int = 0
    changed: int = 0
    expired: int = 0


@dataclass
class LoadReport:
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.status in ("created", "updated") for c in self.changes)


def load_packaged_catalogs(session: Session) -> LoadReport:
    """Load the data files shipped in the package; cheap when nothing changed.  Never commits."""
    return load_catalogs(session, DATA_DIR)


def load_catalogs(session: Session, data_dir: Path, today: date | None = None) -> LoadReport:
    """Load every catalogue and mapping file found in ``data_dir``; the caller commits."""
    today = today or date.today()
    latest = repo.latest_versions(session)
    report = LoadReport()
    for catalog in names.CATALOGS:
        report.changes.append(
            _load_catalog(session, data_dir / names.catalog_file(catalog), catalog, latest.get(catalog), today)
        )
    for mapping in names.MAPPINGS:
        report.changes.append(
            _load_mapping(session, data_dir / names.mapping_file(mapping), mapping, latest.get(mapping))
        )
    return report


def _new_version(
    session: Session, name: str, previous: VersionRow | None, checksum: str, count: int
) -> tuple[int, str]:
    version = f"{(previous.versions_so_far if previous else 0) + 1}-{checksum[:10]}"
    return repo.add_version(session, name, version, SOURCES.get(name, "file"), checksum, count), version


def _load_catalog(session: Session, path: Path, catalog: str, previous: VersionRow | None, today: date) -> Change:
    if not path.exists():
        return Change(catalog, "catalog", "missing")
    content = path.read_bytes()
    checksum = hashlib.sha256(content).hexdigest()
    if previous is not None and previous.checksum == checksum:
        return Change(catalog, "catalog", "unchanged", previous.version)
    rows = parse_entries(catalog, content.decode("utf-8"), path.name)
    existing = {(e.code, e.valid_from): e for e in repo.entries(session, catalog)}
    written = [r for r in rows if existing.get((r.code, r.valid_from)) != r]
    gone = repo.open_keys(session, catalog, today) - {(r.code, r.valid_from) for r in rows}
    version_id, version = _new_version(session, catalog, previous, checksum, len(rows))
    repo.upsert_entries(session, version_id, written)
    repo.close_entries(session, catalog, sorted(gone), today, version_id)
    added = sum(1 for r in written if (r.code, r.valid_from) not in existing)
    return Change(
        catalog,
        "catalog",
        "created" if previous is None else "updated",
        version,
        added=added,
        changed=len(written) - added,
        expired=len(gone),
    )


def _load_mapping(session: Session, path: Path, mapping: str, previous: VersionRow | None) -> Change:
    if not path.exists():
        return Change(mapping, "mapping", "missing")
    content = path.read_bytes()
    checksum = hashlib.sha256(content).hexdigest()
    if previous is not None and previous.checksum == checksum:
        return Change(mapping, "mapping", "unchanged", previous.version)
    pairs = parse_pairs(content.decode("utf-8"), path.name)
    _, version = _new_version(session, mapping, previous, checksum, len(pairs))
    repo.replace_mapping(session, mapping, pairs)
    return Change(mapping, "mapping", "created" if previous is None else "updated", version, added=len(pairs))


def _optional(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _parse_date(value: str | None, default: date | None, where: str) -> date | None:
    text = _optional(value)
    try:
        return date.fromisoformat(text) if text else default
    except ValueError as error:
        raise DataFileError(f"{where}: bad date {text!r}") from error


def parse_entries(catalog: str, text: str, source: str) -> list[EntryRow]:
    """Rows of a catalogue file; raises :class:`DataFileError` on a malformed or duplicated row."""
    rows, seen = [], set()
    for number, raw in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        where = f"{source}:{number}"
        code, name_vi = _optional(raw.get("code")), _optional(raw.get("name_vi"))
        if not code or not name_vi:
            raise DataFileError(f"{where}: code and name_vi are required")
        valid_from = _parse_date(raw.get("valid_from"), names.ALWAYS, where)
        assert valid_from is not None
        if (code, valid_from) in seen:
            raise DataFileError(f"{where}: duplicate code {code!r}")
        seen.add((code, valid_from))
        rows.append(
            EntryRow(
                catalog=catalog,
                code=code,
                valid_from=valid_from,
                valid_to=_parse_date(raw.get("valid_to"), None, where),
                name_vi=name_vi,
                name_en=_optional(raw.get("name_en")),
                parent_code=_optional(raw.get("parent_code")),
                attrs=_parse_attrs(raw.get("attrs"), where),
            )
        )
    return rows


def _parse_attrs(value: str | None, where: str) -> dict[str, object]:
    text = _optional(value)
    if not text:
        return {}
    try:
        attrs = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataFileError(f"{where}: attrs is not JSON") from error
    if not isinstance(attrs, dict):
        raise DataFileError(f"{where}: attrs must be a JSON object")
    return attrs


def parse_pairs(text: str, source: str) -> Sequence[tuple[str, str, str | None]]:
    pairs = []
    for number, raw in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        from_code, to_code = _optional(raw.get("from_code")), _optional(raw.get("to_code"))
        if not from_code or not to_code:
            raise DataFileError(f"{source}:{number}: from_code and to_code are required")
        pairs.append((from_code, to_code, _optional(raw.get("note"))))
    return pairs
