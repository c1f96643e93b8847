"""The rules of logging operator reads (dancu.registry.disclosure), without HTTP: one entry per disclosing read,
with whose data, which fields, who and why; no entry, no answer."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from dancu.ledger.domain import EntryKind, LedgerEntry, Receipt
from dancu.ledger.errors import LedgerUnavailable
from dancu.registry import disclosure, service
from dancu.registry.errors import ResidentNotFound
from dancu.registry.schemas import CorrectionRequest
from tests.registry.factories import context, create, token, unique_number

READER = disclosure.Reader.of("nguyen.van.a", None)


class Log:
    """Records every entry it is asked to write, as a writer would, and answers with a receipt."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def __call__(self, entry: LedgerEntry) -> Receipt:
        self.entries.append(entry)
        return Receipt(1000 + len(self.entries), b"\0" * 32, datetime.now(UTC))


def refuse(entry: LedgerEntry) -> Receipt:
    raise LedgerUnavailable("nhật ký hỏng", "log down")


def test_a_record_read_is_one_entry_naming_the_resident_and_the_fields_shown(session: Session) -> None:
    record = create(session, relation_to_head="00")
    pid = record.resident.fields["personal_id"]
    log = Log()
    read = disclosure.read_resident(session, disclosure.Reader.of("nguyen.van.a", "  xác minh hồ sơ "), log, pid)
    [entry] = log.entries
    assert read.seq == 1001 and read.answer.resident.fields["personal_id"] == pid
    assert entry.kind == EntryKind.EXCHANGE and entry.client_system == "operator:api"
    assert (entry.service, entry.end_user, entry.purpose, entry.result) == (
        "registry.read", "nguyen.van.a", "xác minh hồ sơ", "ok")
    assert entry.legal_basis == "Luật Căn cước 2023" and entry.personal_ids == (pid,)
    fields = entry.fields_disclosed
    assert {"personal_id", "full_name", "phone", "email", "permanent_address"} <= set(fields)
    assert "other_name" not in fields and "death_date" not in fields  # empty fields disclose nothing
    assert fields[-2:] == ("household", "history")
    assert entry.response_hash == hashlib.sha256(read.body).digest()
    assert json.loads(read.body) == read.answer.model_dump(mode="json")


def test_a_record_without_household_does_not_claim_one(session: Session) -> None:
    pid = create(session).resident.fields["personal_id"]
    log = Log()
    disclosure.read_resident(session, READER, log, pid)
    assert log.entries[0].fields_disclosed[-1] == "history" and "household" not in log.entries[0].fields_disclosed
    assert log.entries[0].purpose == disclosure.DEFAULT_PURPOSE == "quản lý dân cư"


def test_a_past_record_names_its_holder_now_and_the_number_it_showed(session: Session) -> None:
    old = create(session).resident.fields["personal_id"]
    new = unique_number("001", 1985, "1")
    later = datetime.now(UTC) + timedelta(hours=1)
    body = CorrectionRequest(changes={"personal_id": new}, expected_version=1, reason="QĐ 7")
    service.correct_resident(context(session, now=later), old, body)
    log = Log()
    past = disclosure.read_resident(session, READER, log, old, as_of=later - timedelta(minutes=30))
    now = disclosure.read_resident(session, READER, log, old)
    assert past.answer.resident.fields["personal_id"] == old
    assert [e.personal_ids for e in log.entries] == [(new, old), (new,)]
    assert log.entries[0].request_hash != log.entries[1].request_hash  # as_of is part of the request
    assert now.answer.resident.fields["personal_id"] == new


def test_history_read_discloses_the_history(session: Session) -> None:
    pid = create(session).resident.fields["personal_id"]
    log = Log()
    read = disclosure.resident_history(session, READER, log, pid)
    [entry] = log.entries
    assert (entry.service, entry.personal_ids, entry.fields_disclosed) == ("registry.history", (pid,), ("history",))
    assert [c["kind"] for c in json.loads(read.body)] == ["created"]
    assert entry.response_hash == hashlib.sha256(read.body).digest()


def test_search_names_everyone_on_the_page_in_order_and_nobody_else(session: Session) -> None:
    surname = token(7)
    pids = [create(session, full_name=f"{surname} Văn {token()}").resident.fields["personal_id"] for _ in range(3)]
    log = Log()
    page = disclosure.search_residents(session, READER, log, name=surname, limit=2)
    [entry] = log.entries
    assert entry.service == "registry.search" and len(page.answer.items) == 2 and page.answer.has_more
    assert entry.personal_ids == tuple(h.personal_id for h in page.answer.items) and set(entry.personal_ids) < set(pids)
    assert entry.fields_disclosed == ("personal_id", "full_name", "date_of_birth", "sex", "permanent_province",
                                      "permanent_commune")
    rest = disclosure.search_residents(session, READER, log, name=surname, limit=2, offset=2)
    assert log.entries[1].personal_ids == (rest.answer.items[0].personal_id,)
    assert set(entry.personal_ids) | set(log.entries[1].personal_ids) == set(pids)


def test_nothing_found_is_nothing_disclosed_and_nothing_logged(session: Session) -> None:
    log = Log()
    empty = disclosure.search_residents(session, READER, log, name=token(9))
    assert empty.answer.items == [] and empty.seq is None and log.entries == []
    with pytest.raises(ResidentNotFound):
        disclosure.read_resident(session, READER, log, "001099999999")
    assert log.entries == []


@pytest.mark.parametrize("failure", [refuse, lambda entry: (_ for _ in ()).throw(RuntimeError("connection lost"))])
def test_a_read_that_cannot_be_logged_is_refused(session: Session, failure: disclosure.Log) -> None:
    record = create(session, full_name=f"Lò Văn {token()}")
    pid = record.resident.fields["personal_id"]
    with pytest.raises(LedgerUnavailable):
        disclosure.read_resident(session, READER, failure, pid)
    with pytest.raises(LedgerUnavailable):
        disclosure.resident_history(session, READER, failure, pid)
    with pytest.raises(LedgerUnavailable):
        disclosure.search_residents(session, READER, failure, personal_id=pid)


def test_the_cli_is_its_own_client_system() -> None:
    reader = disclosure.Reader.of("root", "", disclosure.CLI)
    assert (reader.client_system, reader.purpose) == ("operator:cli", "quản lý dân cư")
    assert disclosure.is_operator(reader.client_system) and disclosure.is_operator(disclosure.API)
    assert not disclosure.is_operator("VN/GOV/BCA/CITIZEN-PORTAL")
