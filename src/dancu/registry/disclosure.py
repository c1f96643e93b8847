"""Operator reads of resident records go into the exchange log before the answer leaves.

The database manager's operators read records through the registry API and the ``dancu registry`` commands.
Every read that discloses resident data is one exchange-log entry, durably written before the answer is sent
or printed; when it cannot be written the read is refused (``503 ledger_unavailable``) and nothing is disclosed.
The functions take the caller's session (they never commit: the request or command does) and ``log``, a
function that durably appends one entry and returns its receipt (raising ``LedgerUnavailable`` when it cannot).
The entry is built and written by :func:`dancu.ledger.operator_reads.disclose`, shared with the other operator
screens that show resident data (the sync review queue, the correction queue); the names used here before it
existed (``Reader``, ``Disclosed``, ``API``, ``CLI``…) are re-exported.

The registry's entries, as docs/ledger.md ("Operator reads") describes them:

* ``service`` :data:`READ`, :data:`HISTORY` or :data:`SEARCH`; ``purpose`` the operator's, else
  :data:`DEFAULT_PURPOSE`;
* ``personal_ids`` the record's holder (and the number the record showed then, for an ``as_of`` read of a
  record whose number changed since), or the IDs on the search page in their order.  Household members and
  relatives named in a record are fields of that record (Luật Căn cước 2023 Điều 9 items 15 and 23), not
  further subjects;
* ``fields_disclosed`` the record's non-empty fields, then ``household`` and ``history`` when shown; ``history``
  alone; the search hit's fields.

A search that finds nobody, like a read of an unknown number, discloses no one's data and writes no entry.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from dancu.ledger.operator_reads import API as API
from dancu.ledger.operator_reads import CLI as CLI
from dancu.ledger.operator_reads import DEFAULT_PURPOSE as DEFAULT_PURPOSE
from dancu.ledger.operator_reads import Disclosed as Disclosed
from dancu.ledger.operator_reads import Log as Log
from dancu.ledger.operator_reads import Reader as Reader
from dancu.ledger.operator_reads import Shown, disclose
from dancu.ledger.operator_reads import is_operator as is_operator
from dancu.registry import queries
from dancu.registry import repository as repo
from dancu.registry.schemas import ChangeView, ResidentRecord, SearchHit, SearchPage

READ, HISTORY, SEARCH = "registry.read", "registry.history", "registry.search"
SEARCH_FIELDS = tuple(name for name in SearchHit.model_fields if name != "score")
_EMPTY: tuple[Any, ...] = (None, "", [], {})
_HISTORY = TypeAdapter(list[ChangeView])


def read_resident(session: Session, reader: Reader, log: Log, personal_id: str,
                  as_of: datetime | None = None) -> Disclosed[ResidentRecord]:
    started = time.perf_counter()
    record = queries.read_resident(session, personal_id, as_of)
    shown = record.resident.fields.get("personal_id")
    request = {"personal_id": personal_id, "as_of": as_of.isoformat() if as_of else None}
    return disclose(reader, log, READ, request, record, record.model_dump_json().encode(), started,
                    _alike(subjects(session, personal_id, shown), record_fields(record)))


def resident_history(session: Session, reader: Reader, log: Log, personal_id: str) -> Disclosed[list[ChangeView]]:
    started = time.perf_counter()
    history = queries.resident_history(session, personal_id)
    return disclose(reader, log, HISTORY, {"personal_id": personal_id}, history, _HISTORY.dump_json(history),
                    started, _alike(subjects(session, personal_id), ("history",)))


def search_residents(session: Session, reader: Reader, log: Log, *, name: str | None = None, dob: str | None = None,
                     province: str | None = None, commune: str | None = None, personal_id: str | None = None,
                     limit: int = 20, offset: int = 0) -> Disclosed[SearchPage]:
    started = time.perf_counter()
    criteria = {"name": name, "dob": dob, "province": province, "commune": commune, "personal_id": personal_id}
    page = queries.search_residents(session, **criteria, limit=limit, offset=offset)
    return disclose(reader, log, SEARCH, {**criteria, "limit": limit, "offset": offset}, page,
                    page.model_dump_json().encode(), started,
                    _alike((hit.personal_id for hit in page.items), SEARCH_FIELDS))


def record_fields(record: ResidentRecord) -> tuple[str, ...]:
    """What a record answer discloses: its non-empty fields in record order, then its household and history."""
    shown = [name for name, value in record.resident.fields.items() if value not in _EMPTY]
    return (*shown, *(["household"] if record.household else []), *(["history"] if record.history else []))


def subjects(session: Session, personal_id: str, shown: str | None = None) -> tuple[str, ...]:
    """Whose data was read: the number's holder now (the citizen's history is kept under it), then the number
    the answer showed if it differs (a record read as it stood before its number changed)."""
    holder = repo.find(session, personal_id)
    numbers = (holder.personal_id if holder is not None else personal_id, shown)
    return tuple(dict.fromkeys(n for n in numbers if n))


def _alike(personal_ids: Iterable[str], fields: tuple[str, ...]) -> Shown:
    """Everyone shown the same fields: one entry."""
    shown = Shown(order=fields)
    shown.add(personal_ids, fields)
    return shown
