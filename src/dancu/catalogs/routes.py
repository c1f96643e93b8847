"""Read-only catalogue endpoints served to connected systems."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from dancu.catalogs import service
from dancu.catalogs.schemas import CatalogEntryOut, CatalogOut, CatalogSummary, MappingOut, MappingSummary
from dancu.errors import PROBLEM_CONTENT_TYPE, ValidationFailed, field_error
from dancu.kit.http import DbSession as SessionDep

router = APIRouter(prefix="/catalogs", tags=["catalogs"])


def _as_of(
    as_of: Annotated[
        str | None,
        Query(
            pattern=r"^\d{4}-\d{2}-\d{2}$", description="Date (YYYY-MM-DD) on which entries are valid; default today"
        ),
    ] = None,
) -> date | None:
    """A calendar date, strictly YYYY-MM-DD (no timestamps, no other formats)."""
    if as_of is None:
        return None
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        raise ValidationFailed(
            [field_error("as_of", "invalid_date", f"Ngày '{as_of}' không hợp lệ.", f"'{as_of}' is not a valid date.")]
        ) from None


AsOf = Annotated[date | None, Depends(_as_of)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown catalogue, code or mapping", "content": {PROBLEM_CONTENT_TYPE: {}}},
}


@router.get("", summary="Danh mục dùng chung — list of catalogues")
def list_catalogs(session: SessionDep) -> list[CatalogSummary]:
    return service.list_catalogs(session)


# Declared before /{name} so that "mappings" is never taken for a catalogue name.
@router.get("/mappings", summary="Bảng chuyển đổi mã — list of code mappings")
def list_mappings(session: SessionDep) -> list[MappingSummary]:
    return service.list_mappings(session)


@router.get("/mappings/{mapping}", summary="Pairs of a code mapping (old → new)", responses=_NOT_FOUND)
def get_mapping(mapping: str, session: SessionDep) -> MappingOut:
    return service.mapping(session, mapping)


@router.get("/{name}", summary="Entries of a catalogue valid on a date", responses=_NOT_FOUND)
def get_catalog(name: str, session: SessionDep, as_of: AsOf) -> CatalogOut:
    return service.catalog(session, name, as_of)


@router.get("/{name}/{code}", summary="One entry; without as_of the latest, even if expired", responses=_NOT_FOUND)
def get_entry(name: str, code: str, session: SessionDep, as_of: AsOf) -> CatalogEntryOut:
    return service.catalog_entry(session, name, code, as_of)
