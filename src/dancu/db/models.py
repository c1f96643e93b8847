"""Imports every capability's models so Alembic and tests see the whole schema."""

import dancu.agencies.models  # noqa: F401 — connected systems and their policy tables
from dancu.catalogs.models import CatalogEntry, CatalogMapping, CatalogVersion
from dancu.db.base import Base
from dancu.jobs.models import Job
from dancu.ledger.models import LedgerEntryRow, LedgerTreeHeadRow
from dancu.registry.models import Household, PersonalIdNumber, PersonalIdSequence, Resident, ResidentChange

__all__ = [
    "Base",
    "CatalogEntry",
    "CatalogMapping",
    "CatalogVersion",
    "Household",
    "Job",
    "LedgerEntryRow",
    "LedgerTreeHeadRow",
    "PersonalIdNumber",
    "PersonalIdSequence",
    "Resident",
    "ResidentChange",
]
