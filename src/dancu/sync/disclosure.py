"""The review queue shows residents' data to the reviewer: it goes into the exchange log before the answer leaves.

A review item shows the sector's record (the sector's own data) and what the registry holds about the residents
it may be: the resident its personal ID found (stage a: whether their name, date of birth and sex agree with the
record, the sector value they already hold, that they died) and the demographic candidates (stage b: each field's
agreement level and weight, for the top three).  Every page, and every accepted or rejected item returned, is
written to the exchange log first through :func:`dancu.ledger.operator_reads.disclose` (docs/ledger.md,
"Operator reads"): services :data:`REVIEW`, :data:`ACCEPT`, :data:`REJECT`; ``personal_ids`` the personal IDs
those residents hold now (the item itself names them by ``resident_id``); ``fields_disclosed`` the registry
fields the item tells something about, per resident (:func:`resident_fields`).  A page with no item, or whose
items name no resident, writes no entry.

The functions take the caller's session and never commit (the request or command does): an accept or reject
whose entry cannot be written is refused, and the request's rollback leaves the item open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from dancu.ledger.operator_reads import Disclosed, Log, Reader, Shown, disclose
from dancu.registry.domain import RECORD_FIELDS
from dancu.sync import repository as repo
from dancu.sync import service
from dancu.sync.schemas import ReviewItem, ReviewPage

REVIEW, ACCEPT, REJECT = "sync.review", "sync.review.accept", "sync.review.reject"
DEFAULT_PURPOSE = "duyệt kết quả đồng bộ dữ liệu chuyên ngành"
# what an agreement level tells about the resident: stage (a)'s detail keys, stage (b)'s compared fields
_STAGE_A = {"name": ("full_name",), "name_similarity": ("full_name",), "dob": ("date_of_birth",), "sex": ("sex",)}
_STAGE_B = {"given": ("full_name",), "family": ("full_name",), "middle": ("full_name",),
            "dob": ("date_of_birth",), "sex": ("sex",),
            "province": ("permanent_province", "current_province"),
            "commune": ("permanent_commune", "current_commune")}


def list_reviews(session: Session, reader: Reader, log: Log, *, job_id: int | None = None,
                 source: str | None = None, reason: str | None = None, state: str = "open", limit: int = 20,
                 offset: int = 0) -> Disclosed[ReviewPage]:
    started = time.perf_counter()
    page = service.list_reviews(session, job_id=job_id, source=source, reason=reason, state=state, limit=limit,
                                offset=offset)
    filters = {"job_id": job_id, "source": source, "reason": reason, "state": state, "limit": limit,
               "offset": offset}
    return disclose(reader, log, REVIEW, filters, page, page.model_dump_json().encode(), started,
                    shown(session, page.items))


def accept(session: Session, reader: Reader, log: Log, item_id: str, note: str | None = None) -> Disclosed[ReviewItem]:
    return _decide(session, reader, log, ACCEPT, service.accept, item_id, note)


def reject(session: Session, reader: Reader, log: Log, item_id: str, note: str | None = None) -> Disclosed[ReviewItem]:
    return _decide(session, reader, log, REJECT, service.reject, item_id, note)


def _decide(session: Session, reader: Reader, log: Log, name: str, decide: Callable[..., ReviewItem], item_id: str,
            note: str | None) -> Disclosed[ReviewItem]:
    """A decision on a review item, whose answer (the item) shows resident data like the queue does."""
    started = time.perf_counter()
    item = decide(session, item_id, actor=reader.username, note=note)
    return disclose(reader, log, name, {"item_id": item_id, "note": note}, item, item.model_dump_json().encode(),
                    started, shown(session, [item]))


def shown(session: Session, items: Iterable[ReviewItem]) -> Shown:
    """Whose data the items show (by the personal ID they hold now) and which fields, in the items' order."""
    pairs = [pair for item in items for pair in resident_fields(item)]
    numbers = repo.personal_ids(session, list(dict.fromkeys(rid for rid, _fields in pairs)))
    out = Shown(order=RECORD_FIELDS)
    for resident_id, fields in pairs:
        if resident_id in numbers:
            out.add((numbers[resident_id],), fields)
    return out


def resident_fields(item: ReviewItem) -> list[tuple[int, tuple[str, ...]]]:
    """(resident_id, registry fields the item tells something about) for every resident it names:

    * the item's resident (``resident_id``): found by the record's personal ID (stage a: ``personal_id`` and
      the fields of the ``name``/``dob``/``sex`` agreement), ``sector_ids`` when the item shows the value they
      hold (``existing``, ``sector``), ``death_kind`` when the reason is ``resident_deceased``;
    * every stage-(b) candidate (``detail.match``, ``detail.candidates``): the fields behind its agreement levels
      (a province or commune level compares the record with both the permanent and the current residence);
      the top candidate (``match``) also ``sector_ids`` when the item shows a held value — after stage (b) kept a
      stage-(a) item, the detail no longer tells whose value it is, so both are named.
    """
    detail = item.detail
    out: list[tuple[int, tuple[str, ...]]] = []
    holds_value = "existing" in detail or "sector" in detail
    if item.resident_id is not None:
        stage_a = [f for key, fields in _STAGE_A.items() if key in detail for f in fields]
        own = [*(["personal_id", *stage_a] if stage_a else []), *(["sector_ids"] if holds_value else []),
               *(["death_kind"] if "resident_deceased" in item.reasons else [])]
        out.append((item.resident_id, tuple(dict.fromkeys(own))))
    match = detail.get("match")
    candidates = [c for c in [match, *(detail.get("candidates") or [])] if isinstance(c, dict)]
    for candidate in candidates:
        resident_id = candidate.get("resident_id")
        if not isinstance(resident_id, int):
            continue
        levels: dict[str, Any] = candidate.get("fields") or {}
        fields = [f for key in levels for f in _STAGE_B.get(key, ())]
        if candidate is match and holds_value:
            fields.append("sector_ids")
        out.append((resident_id, tuple(dict.fromkeys(fields))))
    return out
