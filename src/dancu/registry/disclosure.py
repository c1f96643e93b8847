"""Operator reads of resident records go into the exchange log before the answer leaves.

The database manager's operators read records through the registry API and the ``dancu registry`` commands.
Every read that discloses resident data is one exchange-log entry, durably written before the answer is sent
or printed; when it cannot be written the read is refused (``503 ledger_unavailable``) and nothing is disclosed.
The functions take the caller's session (they never commit: the request or command does) and ``log``, a
function that durably appends one entry and returns its receipt (raising ``LedgerUnavailable`` when it cannot).

An entry, as docs/ledger.md ("Operator reads") describes it:

* ``kind`` ``exchange`` — a disclosure like any other, so the resident's "who used my data" lists it and
  inspection counts it; ``client_system`` :data:`API` (an operator token) or :data:`CLI` (the command, whose
  user is self-declared) — the ``:`` never occurs in a connected system's X-Road identifier; ``end_user`` the
  operator's username;
* ``service`` :data:`READ`, :data:`HISTORY` or :data:`SEARCH`; ``purpose`` the operator's, else
  :data:`DEFAULT_PURPOSE`; ``legal_basis`` :data:`LEGAL_BASIS`; ``result`` ``ok``;
* ``personal_ids`` the record's holder (and the number the record showed then, for an ``as_of`` read of a
  record whose number changed since), or the IDs on the search page in their order.  Household members and
  relatives named in a record are fields of that record (Luật Căn cước 2023 Điều 9 items 15 and 23), not
  further subjects;
* ``fields_disclosed`` the record's non-empty fields, then ``household`` and ``history`` when shown; ``history``
  alone; the search hit's fields;
* ``request_hash`` SHA-256 of the read's parameters as sorted JSON; ``response_hash`` SHA-256 of the JSON answer.

A search that finds nobody, like a read of an unknown number, discloses no one's data and writes no entry.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from dancu.ledger.domain import EntryKind, LedgerEntry, Receipt
from dancu.ledger.errors import LedgerUnavailable
from dancu.registry import queries
from dancu.registry import repository as repo
from dancu.registry.schemas import ChangeView, ResidentRecord, SearchHit, SearchPage

OPERATOR_PREFIX = "operator:"  # the client systems of the database manager's own operators
API = OPERATOR_PREFIX + "api"
CLI = OPERATOR_PREFIX + "cli"
READ, HISTORY, SEARCH = "registry.read", "registry.history", "registry.search"
DEFAULT_PURPOSE = "quản lý dân cư"
LEGAL_BASIS = "Luật Căn cước 2023"
SEARCH_FIELDS = tuple(name for name in SearchHit.model_fields if name != "score")
_EMPTY: tuple[Any, ...] = (None, "", [], {})
_HISTORY = TypeAdapter(list[ChangeView])

Log = Callable[[LedgerEntry], Receipt]
T = TypeVar("T")


@dataclass(frozen=True)
class Reader:
    """Who reads (the operator's username), through which client system, and why."""

    username: str
    client_system: str = API
    purpose: str = DEFAULT_PURPOSE

    @classmethod
    def of(cls, username: str, purpose: str | None, client_system: str = API) -> Reader:
        return cls(username, client_system, (purpose or "").strip() or DEFAULT_PURPOSE)


@dataclass(frozen=True)
class Disclosed(Generic[T]):
    """An answer that may leave: its JSON (the bytes hashed into the entry) and the entry's seq (None: nothing
    disclosed, nothing logged)."""

    answer: T
    body: bytes
    seq: int | None


def is_operator(client_system: str) -> bool:
    return client_system.startswith(OPERATOR_PREFIX)


def read_resident(session: Session, reader: Reader, log: Log, personal_id: str,
                  as_of: datetime | None = None) -> Disclosed[ResidentRecord]:
    started = time.perf_counter()
    record = queries.read_resident(session, personal_id, as_of)
    shown = record.resident.fields.get("personal_id")
    request = {"personal_id": personal_id, "as_of": as_of.isoformat() if as_of else None}
    return _logged(reader, log, READ, request, record, record.model_dump_json().encode(), started,
                   _subjects(session, personal_id, shown), record_fields(record))


def resident_history(session: Session, reader: Reader, log: Log, personal_id: str) -> Disclosed[list[ChangeView]]:
    started = time.perf_counter()
    history = queries.resident_history(session, personal_id)
    return _logged(reader, log, HISTORY, {"personal_id": personal_id}, history, _HISTORY.dump_json(history),
                   started, _subjects(session, personal_id), ("history",))


def search_residents(session: Session, reader: Reader, log: Log, *, name: str | None = None, dob: str | None = None,
                     province: str | None = None, commune: str | None = None, personal_id: str | None = None,
                     limit: int = 20, offset: int = 0) -> Disclosed[SearchPage]:
    started = time.perf_counter()
    criteria = {"name": name, "dob": dob, "province": province, "commune": commune, "personal_id": personal_id}
    page = queries.search_residents(session, **criteria, limit=limit, offset=offset)
    body = page.model_dump_json().encode()
    if not page.items:
        return Disclosed(page, body, None)
    return _logged(reader, log, SEARCH, {**criteria, "limit": limit, "offset": offset}, page, body, started,
                   tuple(hit.personal_id for hit in page.items), SEARCH_FIELDS)


def record_fields(record: ResidentRecord) -> tuple[str, ...]:
    """What a record answer discloses: its non-empty fields in record order, then its household and history."""
    shown = [name for name, value in record.resident.fields.items() if value not in _EMPTY]
    return (*shown, *(["household"] if record.household else []), *(["history"] if record.history else []))


def _subjects(session: Session, personal_id: str, shown: str | None = None) -> tuple[str, ...]:
    """Whose data was read: the number's holder now (the citizen's history is kept under it), then the number
    the answer showed if it differs (a record read as it stood before its number changed)."""
    holder = repo.find(session, personal_id)
    numbers = (holder.personal_id if holder is not None else personal_id, shown)
    return tuple(dict.fromkeys(n for n in numbers if n))


def _logged(reader: Reader, log: Log, service: str, request: dict[str, Any], answer: T, body: bytes,
            started: float, personal_ids: tuple[str, ...], fields: tuple[str, ...]) -> Disclosed[T]:
    item = LedgerEntry(
        kind=EntryKind.EXCHANGE, client_system=reader.client_system, service=service, purpose=reader.purpose,
        result="ok", correlation_id=uuid.uuid4().hex, end_user=reader.username, legal_basis=LEGAL_BASIS,
        request_hash=hashlib.sha256(orjson.dumps({**request, "purpose": reader.purpose},
                                                 option=orjson.OPT_SORT_KEYS)).digest(),
        response_hash=hashlib.sha256(body).digest(), latency_ms=int((time.perf_counter() - started) * 1000),
        personal_ids=personal_ids, fields_disclosed=fields)
    try:
        receipt = log(item)
    except LedgerUnavailable:
        raise
    except Exception as cause:  # whatever the writer failed with, the answer does not leave
        raise LedgerUnavailable("Không ghi được nhật ký chia sẻ; yêu cầu bị từ chối.",
                                "The exchange log could not be written; the request is refused.") from cause
    return Disclosed(answer, body, receipt.seq)
