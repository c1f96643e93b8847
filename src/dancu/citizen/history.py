"""Who used my data: the ledger's access history of a resident (read-only), as the citizen channels show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dancu.ledger import inspection


@dataclass(frozen=True)
class Access:
    recorded_at: datetime
    client_system: str
    agency: str  # the organisation's name when the system is registered, else its id
    service: str
    purpose: str
    fields: tuple[str, ...]
    result: str


def access_history(session: Session, personal_id: str, limit: int = 50) -> list[Access]:
    """Newest first."""
    page = inspection.access_history(session, personal_id, limit=limit)
    return [Access(a.recorded_at, a.client_system, a.organisation_name or a.system_name or a.client_system,
                   a.service, a.purpose, tuple(a.fields_disclosed), a.result) for a in page.items]
