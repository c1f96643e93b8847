"""The correction queue shows the requester's data to the officer: it goes into the exchange log before the answer
leaves.

A correction request shows the requester's personal ID, the field, its value when the request was filed, the
value asked for and the reason.  Every page of the queue, and every answered request returned, is written to the
exchange log first through :func:`dancu.ledger.operator_reads.disclose` (docs/ledger.md, "Operator reads"):
services :data:`LIST` and :data:`ANSWER`; ``personal_ids`` the requester — the number their record holds now (the
citizen's history is kept under it), then the number on the request if it has changed since; ``fields_disclosed``
``personal_id`` and the field of each of their requests shown.  Requesters shown different fields are in
different entries (never a requester with another's field).  An empty page writes no entry.

The functions take the caller's session and never commit (the request or command does): an answer whose entry
cannot be written is refused, and the request's rollback leaves the correction request open.
"""

from __future__ import annotations

import time

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from dancu.citizen.corrections import service
from dancu.citizen.corrections.schemas import CorrectionAnswer, CorrectionView
from dancu.ledger.operator_reads import Disclosed, Log, Reader, Shown, disclose
from dancu.registry.disclosure import subjects
from dancu.registry.domain import RECORD_FIELDS

LIST, ANSWER = "citizen.corrections", "citizen.corrections.answer"
DEFAULT_PURPOSE = "giải quyết yêu cầu điều chỉnh thông tin"
_PAGE = TypeAdapter(list[CorrectionView])


def list_requests(session: Session, reader: Reader, log: Log, status: str | None = "open",
                  personal_id: str | None = None, limit: int = 100) -> Disclosed[list[CorrectionView]]:
    started = time.perf_counter()
    views = service.list_requests(session, status, personal_id, limit)
    request = {"status": status, "personal_id": personal_id, "limit": limit}
    return disclose(reader, log, LIST, request, views, _PAGE.dump_json(views), started, shown(session, views))


def answer_request(session: Session, reader: Reader, log: Log, request_id: int,
                   body: CorrectionAnswer) -> Disclosed[CorrectionView]:
    started = time.perf_counter()
    view = service.answer_request(session, request_id, body, reader.username)
    request = {"request_id": request_id, **body.model_dump()}
    return disclose(reader, log, ANSWER, request, view, view.model_dump_json().encode(), started,
                    shown(session, [view]))


def shown(session: Session, views: list[CorrectionView]) -> Shown:
    """Each requester (the number held now, then the request's if older) and the fields of their requests."""
    out = Shown(order=RECORD_FIELDS)
    holders: dict[str, tuple[str, ...]] = {}
    for view in views:
        if view.personal_id not in holders:
            holders[view.personal_id] = subjects(session, view.personal_id, view.personal_id)
        out.add(holders[view.personal_id], ("personal_id", view.field))
    return out
