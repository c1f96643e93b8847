"""All SQL of the catalogues capability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from dancu.catalogs.models import CatalogEntry, CatalogMapping, CatalogVersion


@dataclass(frozen=True)
class VersionRow:
    version_id: int
    catalog: str
    version: str
    source: str
    checksum: str
    entry_count: int
    loaded_at: datetime
    versions_so_far: int


@dataclass(frozen=True)
class EntryRow:
    catalog: str
    code: str
    valid_from: date
    valid_to: date | None
    name_vi: str
    name_en: str | None
    parent_code: str | None
    attrs: dict[str, Any]


_ENTRY_COLUMNS = (
    CatalogEntry.catalog,
    CatalogEntry.code,
    CatalogEntry.valid_from,
    CatalogEntry.valid_to,
    CatalogEntry.name_vi,
    CatalogEntry.name_en,
    CatalogEntry.parent_code,
    CatalogEntry.attrs,
)


def latest_versions(session: Session) -> dict[str, VersionRow]:
    """The latest version of every catalogue and mapping, keyed by name."""
    counted = select(
        CatalogVersion,
        func.count().over(partition_by=CatalogVersion.catalog).label("n"),
        func.row_number()
        .over(partition_by=CatalogVersion.catalog, order_by=CatalogVersion.version_id.desc())
        .label("rank"),
    ).subquery()
    rows = session.execute(select(counted).where(counted.c.rank == 1)).mappings()
    return {
        r["catalog"]: VersionRow(
            r["version_id"],
            r["catalog"],
            r["version"],
            r["source"],
            r["checksum"],
            r["entry_count"],
            r["loaded_at"],
            r["n"],
        )
        for r in rows
    }


def last_version_id(session: Session) -> int:
    """Grows with every load; identifies the state of all catalogues."""
    return int(session.scalar(select(func.coalesce(func.max(CatalogVersion.version_id), 0))) or 0)


def add_version(session: Session, catalog: str, version: str, source: str, checksum: str, count: int) -> int:
    statement = (
        insert(CatalogVersion)
        .values(catalog=catalog, version=version, source=source, checksum=checksum, entry_count=count)
        .returning(CatalogVersion.version_id)
    )
    return int(session.execute(statement).scalar_one())


def entries(
    session: Session, catalog: str | None = None, on: date | None = None, code: str | None = None
) -> list[EntryRow]:
    """Entries of one catalogue (or all), optionally only those valid on a date or with one code."""
    query = select(*_ENTRY_COLUMNS).order_by(CatalogEntry.catalog, CatalogEntry.code, CatalogEntry.valid_from)
    if catalog is not None:
        query = query.where(CatalogEntry.catalog == catalog)
    if code is not None:
        query = query.where(CatalogEntry.code == code)
    if on is not None:
        query = query.where(
            CatalogEntry.valid_from <= on, or_(CatalogEntry.valid_to.is_(None), CatalogEntry.valid_to > on)
        )
    return [EntryRow(*row) for row in session.execute(query)]


_UPSERT_BATCH = 5_000  # rows per INSERT: 9 parameters a row, PostgreSQL allows 65,535 per statement


def upsert_entries(session: Session, version_id: int, rows: Sequence[EntryRow]) -> None:
    for start in range(0, len(rows), _UPSERT_BATCH):
        values = [{**r.__dict__, "version_id": version_id} for r in rows[start : start + _UPSERT_BATCH]]
        statement = pg_insert(CatalogEntry).values(values)
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[CatalogEntry.catalog, CatalogEntry.code, CatalogEntry.valid_from],
                set_={
                    "valid_to": excluded.valid_to,
                    "name_vi": excluded.name_vi,
                    "name_en": excluded.name_en,
                    "parent_code": excluded.parent_code,
                    "attrs": excluded.attrs,
                    "version_id": excluded.version_id,
                },
            )
        )


def close_entries(session: Session, catalog: str, keys: Iterable[tuple[str, date]], on: date, version_id: int) -> None:
    """End the validity of the given (code, valid_from) entries on ``on``; rows are never deleted."""
    for code, valid_from in keys:
        session.execute(
            update(CatalogEntry)
            .where(
                CatalogEntry.catalog == catalog,
                CatalogEntry.code == code,
                CatalogEntry.valid_from == valid_from,
            )
            .values(valid_to=func.greatest(on, CatalogEntry.valid_from), version_id=version_id)
        )


def replace_mapping(session: Session, mapping: str, pairs: Sequence[tuple[str, str, str | None]]) -> None:
    session.execute(delete(CatalogMapping).where(CatalogMapping.mapping == mapping))
    if pairs:
        session.execute(
            insert(CatalogMapping), [{"mapping": mapping, "from_code": f, "to_code": t, "note": n} for f, t, n in pairs]
        )


def mapping_pairs(session: Session, mapping: str | None = None) -> list[tuple[str, str, str, str | None]]:
    """(mapping, from_code, to_code, note), ordered."""
    query = select(CatalogMapping.mapping, CatalogMapping.from_code, CatalogMapping.to_code, CatalogMapping.note)
    if mapping is not None:
        query = query.where(CatalogMapping.mapping == mapping)
    query = query.order_by(CatalogMapping.mapping, CatalogMapping.from_code, CatalogMapping.to_code)
    return [(m, f, t, n) for m, f, t, n in session.execute(query)]


def open_keys(session: Session, catalog: str, on: date) -> set[tuple[str, date]]:
    """(code, valid_from) of the entries still valid on or after ``on``."""
    query = select(CatalogEntry.code, CatalogEntry.valid_from).where(
        CatalogEntry.catalog == catalog,
        or_(CatalogEntry.valid_to.is_(None), CatalogEntry.valid_to > on),
    )
    return {(code, valid_from) for code, valid_from in session.execute(query)}
