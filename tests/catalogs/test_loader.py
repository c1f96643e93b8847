"""Loading data files into the database: idempotence, versions, expiry."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from dancu.catalogs import names
from dancu.catalogs import repository as repo
from dancu.catalogs.loader import DATA_DIR, load_catalogs, load_packaged_catalogs
from dancu.catalogs.service import CatalogLookup


def test_second_load_changes_nothing(session: Session) -> None:
    before = repo.last_version_id(session)
    report = load_packaged_catalogs(session)
    assert not report.changed
    assert {c.status for c in report.changes} == {"unchanged"}
    assert repo.last_version_id(session) == before


def test_every_catalogue_and_mapping_is_loaded(session: Session) -> None:
    versions = repo.latest_versions(session)
    assert set(names.CATALOGS) | set(names.MAPPINGS) <= set(versions)
    assert versions[names.PROVINCE].entry_count == 34


def _copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    return data


def test_changed_file_makes_a_new_version_and_expires_removed_codes(session: Session, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    (data / "sex.csv").write_text(
        "code,name_vi,name_en,parent_code,valid_from,valid_to,attrs\n"
        "1,Nam giới,Male,,,,\n2,Nữ,Female,,,,\n9,Không áp dụng,Not applicable,,,,\n",
        encoding="utf-8",
    )
    today = date(2031, 5, 4)
    previous = repo.latest_versions(session)[names.SEX]

    report = load_catalogs(session, data, today=today)

    changes = {c.name: c for c in report.changes}
    sex = changes[names.SEX]
    assert (sex.status, sex.added, sex.changed, sex.expired) == ("updated", 1, 1, 1)
    assert all(c.status == "unchanged" for n, c in changes.items() if n != names.SEX)
    current = repo.latest_versions(session)[names.SEX]
    assert current.version_id > previous.version_id and current.version.startswith("2-")
    removed = repo.entries(session, names.SEX, code="0")
    assert [e.valid_to for e in removed] == [today]  # kept, no longer valid
    lookup = CatalogLookup.load(session, today)
    assert not lookup.has(names.SEX, "0")
    assert lookup.has(names.SEX, "0", include_expired=True)
    assert lookup.has(names.SEX, "9") and lookup.name(names.SEX, "1") == "Nam giới"
    assert not load_catalogs(session, data, today=today).changed


def test_restored_code_is_valid_again(session: Session, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    original = (data / "blood_type.csv").read_text(encoding="utf-8")
    (data / "blood_type.csv").write_text("\n".join(original.splitlines()[:-1]) + "\n", encoding="utf-8")
    load_catalogs(session, data, today=date(2031, 1, 1))
    assert not CatalogLookup.load(session, date(2031, 6, 1)).has(names.BLOOD_TYPE, "O-")
    (data / "blood_type.csv").write_text(original, encoding="utf-8")
    report = load_catalogs(session, data, today=date(2031, 6, 1))
    assert {c.name: c.changed for c in report.changes}[names.BLOOD_TYPE] == 1
    assert CatalogLookup.load(session, date(2031, 6, 1)).has(names.BLOOD_TYPE, "O-")


def test_changed_mapping_file_replaces_pairs(session: Session, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    (data / names.mapping_file(names.PROVINCE_63_TO_34)).write_text("from_code,to_code,note\n01,01,\n")
    report = load_catalogs(session, data)
    assert {c.name: c.status for c in report.changes}[names.PROVINCE_63_TO_34] == "updated"
    assert [p[1:3] for p in repo.mapping_pairs(session, names.PROVINCE_63_TO_34)] == [("01", "01")]


def test_missing_files_are_reported_not_failed(session: Session, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    report = load_catalogs(session, empty)
    assert {c.status for c in report.changes} == {"missing"}
