"""Answering one inbound SMS: parse, rate-limit, check the sender, build the reply and its log entry.

Never commits and never sends: the caller writes ``Answer.entry`` to the exchange log, commits, and
only then sends ``Answer.reply``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dancu.catalogs import names
from dancu.catalogs.lookup import CatalogLookup
from dancu.citizen import disclosure
from dancu.citizen.history import access_history
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms import replies
from dancu.citizen.sms import repository as repo
from dancu.citizen.sms.commands import Command, Kind, parse
from dancu.ledger.domain import LedgerEntry
from dancu.registry import repository as registry
from dancu.registry.domain import normalise_phone

SERVICE = "citizen_sms"


@dataclass(frozen=True)
class Inbound:
    sender: str
    text: str
    message_id: str | None = None


@dataclass(frozen=True)
class Answer:
    reply: str | None  # None: stay silent (a sender past the limit who was already told)
    entry: LedgerEntry | None  # None: nothing looked up (help, malformed)
    command: Command


def window(now: datetime, seconds: int) -> datetime:
    """The start of the fixed rate window of ``seconds`` that ``now`` falls in."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _owner_state(session: Session, personal_id: str, sender: str | None) -> dict[str, object] | None:
    """The record, only if ``sender`` is the mobile number registered on it."""
    resident = registry.find(session, personal_id)
    if resident is None or sender is None or resident.phone is None:
        return None
    if normalise_phone(resident.phone) != sender:
        return None
    return registry.state_of(resident)


def _lookup(session: Session, command: Command, sender: str | None) -> tuple[str, str, tuple[str, ...]]:
    """(reply, result, fields disclosed) of a record or history command."""
    assert command.personal_id is not None
    state = _owner_state(session, command.personal_id, sender)
    if state is None:
        return replies.NEUTRAL, "refused", ()
    if command.kind is Kind.HISTORY:
        others = [a for a in access_history(session, command.personal_id) if not a.service.startswith("citizen_")]
        return replies.history(others), "answered", ("access_history",)
    catalogs = CatalogLookup.load(session)
    reply = replies.record(state, catalogs.name(names.SEX, str(state.get("sex"))),
                           catalogs.name(names.PROVINCE, str(state.get("permanent_province"))))
    return reply, "answered", replies.RECORD_FIELDS


def answer(session: Session, inbound: Inbound, settings: CitizenSettings, now: datetime | None = None) -> Answer:
    """Every inbound text counts against its sender's limit — help and malformed ones too, since each gets
    a reply of one or more UCS-2 segments: past the limit the first gets "too many requests", the rest
    nothing.  Only look-ups (answered, refused or rate-limited) have a log entry."""
    command = parse(inbound.text)
    sender = normalise_phone(inbound.sender)
    count = repo.hit(session, sender or inbound.sender[:32], window(now or datetime.now(UTC),
                                                                     settings.sms_rate_window_s))
    limited = count > settings.sms_rate_limit
    refusal = replies.RATE_LIMITED if count == settings.sms_rate_limit + 1 else None
    if command.kind in (Kind.HELP, Kind.MALFORMED):
        reply = replies.HELP if command.kind is Kind.HELP else replies.MALFORMED
        return Answer(refusal if limited else reply, None, command)
    log: dict[str, Any] = {"client_system": settings.sms_client_system, "service": SERVICE,
                           "personal_id": command.personal_id, "end_user": sender or inbound.sender[:32],
                           "correlation_id": inbound.message_id, "request": inbound.text}
    if limited:
        entry = disclosure.entry(**log, result="refused", error_code="rate_limited", response=refusal or "")
        return Answer(refusal, entry, command)
    reply, result, fields = _lookup(session, command, sender)
    error = None if result == "answered" else "not_disclosed"
    entry = disclosure.entry(**log, result=result, fields=fields, response=reply, error_code=error)
    return Answer(reply, entry, command)
