"""Imports every capability's models so Alembic and tests see the whole schema."""

import dancu.agencies.models
import dancu.citizen.models  # noqa: F401 — SMS, portal accounts and sessions, correction requests
from dancu.catalogs.models import CatalogEntry, CatalogMapping, CatalogVersion
from dancu.db.base import Base
from dancu.exchange import models as exchange_models  # noqa: F401 — staging of verify jobs
from dancu.jobs.models import Job
from dancu.ledger.models import LedgerEntryRow, LedgerTreeHeadRow
from dancu.operators import models as operator_models  # noqa: F401 — operator accounts and tokens
from dancu.registry.models import Household, PersonalIdNumber, PersonalIdSequence, Resident, ResidentChange
from dancu.sync import models as sync_models  # noqa: F401 — sector synchronisation tables
from dancu.sync.matching import tables as match_tables  # noqa: F401 — blocking keys, per-source weights
from dancu.sync.push import models as push_models  # noqa: F401 — who pushed which batch (enrichment push)

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
