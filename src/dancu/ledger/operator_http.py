"""HTTP side of operator reads (:mod:`dancu.ledger.operator_reads`): the reader, the log, the answer.

Usage in a routes module::

    Reader = Annotated[operator_reads.Reader, ReadBy("reviewer", default_purpose=...)]  # the token's operator + purpose
    ...
    def handler(session: DbSession, reader: Reader, log: LedgerLog) -> Response:
        return answer(disclosure.list_something(session, reader, log, ...))

The answer is the JSON whose hash was logged, byte for byte, with the entries' seqs in ``X-Dancu-Log-Seq``
(one seq, or several comma-separated in the order written; absent when nothing was disclosed).
"""

# No ``from __future__ import annotations``: FastAPI must see the real annotations of the closure in ReadBy.

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from dancu.errors import PROBLEM_CONTENT_TYPE
from dancu.ledger.appending import append_from_thread
from dancu.ledger.operator_reads import API, DEFAULT_PURPOSE, MAX_PURPOSE, Disclosed, Log, Reader
from dancu.operators.auth import RequireRole

LOG_SEQ_HEADER = "X-Dancu-Log-Seq"
NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store NUL: refuse it at the door (422), not in the database (500)
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_CONTENT_TYPE: {}}, "description": "Problem details (RFC 9457)"}


def ReadBy(*roles: str, default_purpose: str = DEFAULT_PURPOSE) -> Any:
    """``Depends`` that yields the :class:`Reader`: the authenticated operator holding one of ``roles``, through
    ``operator:api``, with the optional ``purpose`` query parameter (else ``default_purpose``)."""
    Username = Annotated[str, RequireRole(*roles)]
    description = (f"Mục đích — why you read; written to the exchange log (default '{default_purpose}')")

    def reader(username: Username, purpose: Annotated[str | None, Query(
            max_length=MAX_PURPOSE, pattern=NO_NUL, description=description)] = None) -> Reader:
        return Reader.of(username, purpose, API, default_purpose)

    return Depends(reader)


def ledger_log(request: Request) -> Log:
    """The process's exchange-log writer, reached from this worker thread."""
    writer = request.app.state.ledger_writer
    return lambda entry: append_from_thread(writer, entry)


LedgerLog = Annotated[Log, Depends(ledger_log)]


def answer(disclosed: Disclosed[Any]) -> Response:
    """The JSON whose hash was logged, byte for byte, with the entries' seqs."""
    headers = {LOG_SEQ_HEADER: ", ".join(map(str, disclosed.seqs))} if disclosed.seqs else None
    return Response(disclosed.body, media_type="application/json", headers=headers)


def read_responses(errors: dict[int | str, dict[str, Any]], several: bool = False) -> dict[int | str, dict[str, Any]]:
    """``errors`` with the header of a logged answer and the 503 of a read that could not be logged; ``several``:
    the answer may be several entries (a queue page)."""
    header: dict[str, Any] = (
        {"description": "seqs of this answer's exchange-log entries, comma-separated in the order written (one "
                        "per set of fields shown; absent when nothing was disclosed)",
         "schema": {"type": "string", "pattern": r"^[0-9]+(, [0-9]+)*$"}} if several else
        {"description": "seq of this read's exchange-log entry (absent when nothing was disclosed)",
         "schema": {"type": "integer"}})
    return {
        **errors,
        200: {"headers": {LOG_SEQ_HEADER: header}},
        503: {**_PROBLEM, "description": "ledger_unavailable: the read could not be logged, so nothing is disclosed"},
    }
