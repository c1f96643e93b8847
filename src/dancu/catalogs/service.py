"""Shared catalogues (dữ liệu danh mục dùng chung): loading, validation lookups and read models.

Other capabilities use :func:`load_packaged_catalogs`, :class:`CatalogLookup` and :func:`validate_code`.
Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from dancu.catalogs import names
from dancu.catalogs import repository as repo
from dancu.catalogs.errors import CatalogCodeNotFound, CatalogNotFound, MappingNotFound
from dancu.catalogs.loader import Change, LoadReport, load_catalogs, load_packaged_catalogs
from dancu.catalogs.lookup import CatalogLookup, validate_code
from dancu.catalogs.repository import EntryRow, VersionRow
from dancu.catalogs.schemas import (
    CatalogEntryOut,
    CatalogOut,
    CatalogSummary,
    MappingOut,
    MappingPair,
    MappingSummary,
)

__all__ = [
    "CatalogLookup",
    "Change",
    "LoadReport",
    "catalog",
    "catalog_entry",
    "list_catalogs",
    "list_mappings",
    "load_catalogs",
    "load_packaged_catalogs",
    "mapping",
    "validate_code",
]


def list_catalogs(session: Session) -> list[CatalogSummary]:
    versions = repo.latest_versions(session)
    return [_summary(versions[n]) for n in names.CATALOGS if n in versions]


def list_mappings(session: Session) -> list[MappingSummary]:
    versions = repo.latest_versions(session)
    return [
        MappingSummary(
            name=v.catalog, version=v.version, source=v.source, pair_count=v.entry_count, loaded_at=v.loaded_at
        )
        for v in (versions[n] for n in names.MAPPINGS if n in versions)
    ]


def catalog(session: Session, name: str, as_of: date | None = None) -> CatalogOut:
    """Entries of catalogue ``name`` valid on ``as_of`` (default today)."""
    version = _catalog_version(session, name)
    on = as_of or date.today()
    entries = [_entry(e) for e in repo.entries(session, name, on=on)]
    return CatalogOut(name=name, version=version.version, as_of=on, entries=entries)


def catalog_entry(session: Session, name: str, code: str, as_of: date | None = None) -> CatalogEntryOut:
    """The entry valid on ``as_of``; without a date, the latest entry of the code even if expired."""
    _catalog_version(session, name)
    found = repo.entries(session, name, on=as_of, code=code)
    if not found:
        raise CatalogCodeNotFound(name, code)
    return _entry(found[-1])


def mapping(session: Session, name: str) -> MappingOut:
    version = repo.latest_versions(session).get(name)
    if name not in names.MAPPINGS or version is None:
        raise MappingNotFound(name)
    pairs = [MappingPair(from_code=f, to_code=t, note=n) for _, f, t, n in repo.mapping_pairs(session, name)]
    return MappingOut(name=name, version=version.version, pairs=pairs)


def _catalog_version(session: Session, name: str) -> VersionRow:
    version = repo.latest_versions(session).get(name)
    if name not in names.CATALOGS or version is None:
        raise CatalogNotFound(name)
    return version


def _summary(version: VersionRow) -> CatalogSummary:
    return CatalogSummary(
        name=version.catalog,
        version=version.version,
        source=version.source,
        entry_count=version.entry_count,
        loaded_at=version.loaded_at,
    )


def _entry(row: EntryRow) -> CatalogEntryOut:
    return CatalogEntryOut(
        code=row.code,
        name_vi=row.name_vi,
        name_en=row.name_en,
        parent_code=row.parent_code,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        attrs=row.attrs,
    )
