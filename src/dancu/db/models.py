"""Imports every capability's models so Alembic and tests see the whole schema."""

from dancu.catalogs.models import CatalogEntry, CatalogMapping, CatalogVersion
from dancu.db.base import Base
from dancu.jobs.models import Job
from dancu.registry.models import Household, PersonalIdNumber, PersonalIdSequence, Resident, ResidentChange

__all__ = [
    "Base",
    "CatalogEntry",
    "CatalogMapping",
    "CatalogVersion",
    "Household",
    "Job",
    "PersonalIdNumber",
    "PersonalIdSequence",
    "Resident",
    "ResidentChange",
]
