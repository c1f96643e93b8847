"""Who used my data: the ledger's access history of a resident (read-only), as the citizen channels show it.

Connected systems are named by their organisation (else their system, else their identifier).  A read by the
database manager's own operators (client systems ``operator:…``, see :mod:`dancu.ledger.operator_reads`) is named
as the database manager and the officer's username — what the log holds, what a complaint or an inspector can
cite — never as the bare client-system code.  Administrative entries (``kind`` ``admin``) are not uses of a
resident's data and are never listed (the ledger's query keeps to ``exchange`` entries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dancu.ledger import inspection
from dancu.ledger.operator_reads import is_operator
from dancu.ledger.schemas import AccessOut

DATABASE_MANAGER_VI = "Cơ quan quản lý CSDL quốc gia về dân cư (Bộ Công an)"
DATABASE_MANAGER_EN = "Manager of the national population database (Ministry of Public Security)"
OFFICER_VI, OFFICER_EN = "cán bộ", "officer"


@dataclass(frozen=True)
class Access:
    recorded_at: datetime
    client_system: str
    agency: str  # the organisation's name when the system is registered, else its id; the manager and officer
    service: str
    purpose: str
    fields: tuple[str, ...]
    result: str
    officer: str | None = None  # the database manager's officer (username) who read the record


def access_history(session: Session, personal_id: str, limit: int = 50) -> list[Access]:
    """Newest first."""
    page = inspection.access_history(session, personal_id, limit=limit)
    return [_access(a) for a in page.items]


def _access(a: AccessOut) -> Access:
    officer = (a.end_user or "?") if is_operator(a.client_system) else None
    agency = (f"{DATABASE_MANAGER_VI} — {OFFICER_VI} {officer}" if officer is not None
              else a.organisation_name or a.system_name or a.client_system)
    return Access(a.recorded_at, a.client_system, agency, a.service, a.purpose, tuple(a.fields_disclosed), a.result,
                  officer)
