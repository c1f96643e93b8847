"""The shared rules of operator reads (dancu.ledger.operator_reads), without HTTP or a database: one entry per set of
fields shown, never a resident with a field the answer did not show them; nothing shown, nothing logged; no
entry, no answer."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import pytest

from dancu.ledger.domain import EntryKind, LedgerEntry, Receipt
from dancu.ledger.errors import LedgerUnavailable
from dancu.ledger.operator_reads import CLI, Reader, Shown, disclose

READER = Reader.of("cb.duyet", None, default="duyệt hồ sơ")
ORDER = ("personal_id", "full_name", "date_of_birth", "email", "sector_ids")


class Log:
    def __init__(self, fail_after: int | None = None) -> None:
        self.entries: list[LedgerEntry] = []
        self.fail_after = fail_after

    def __call__(self, entry: LedgerEntry) -> Receipt:
        if self.fail_after is not None and len(self.entries) >= self.fail_after:
            raise ConnectionError("the log's database went away")
        self.entries.append(entry)
        return Receipt(500 + len(self.entries), b"\0" * 32, datetime.now(UTC))


def test_residents_shown_the_same_fields_share_one_entry_whatever_the_order() -> None:
    shown = Shown(order=ORDER)
    shown.add(["001"], ["email", "personal_id"])
    shown.add(["002"], ["sector_ids"])
    shown.add(["003"], ["personal_id"])
    shown.add(["003"], ["email"])  # another item of the same resident
    shown.add(["002"], ["full_name"])
    assert shown.groups() == [(("001", "003"), ("personal_id", "email")), (("002",), ("full_name", "sector_ids"))]


def test_an_answer_is_one_entry_per_set_of_fields_with_one_correlation_and_the_answers_hashes() -> None:
    shown = Shown(order=ORDER)
    shown.add(["001", "009"], ["personal_id", "full_name"])  # a number held now and the one the answer showed
    shown.add(["002"], ["personal_id", "email"])
    log = Log()
    body = b'{"items": []}'
    disclosed = disclose(READER, log, "citizen.corrections", {"limit": 5}, "answer", body, time.perf_counter(),
                         shown)
    first, second = log.entries
    assert disclosed.seqs == (501, 502) and disclosed.seq == 501 and disclosed.body == body
    assert (first.personal_ids, first.fields_disclosed) == (("001", "009"), ("personal_id", "full_name"))
    assert (second.personal_ids, second.fields_disclosed) == (("002",), ("personal_id", "email"))
    for entry in log.entries:
        assert entry.kind == EntryKind.EXCHANGE and entry.client_system == "operator:api"
        assert (entry.service, entry.end_user, entry.purpose, entry.result) == (
            "citizen.corrections", "cb.duyet", "duyệt hồ sơ", "ok")
        assert entry.response_hash == hashlib.sha256(body).digest()
    assert first.correlation_id == second.correlation_id and first.request_hash == second.request_hash


def test_nothing_shown_is_nothing_logged() -> None:
    log = Log()
    disclosed = disclose(READER, log, "sync.review", {}, [], b"[]", time.perf_counter(), Shown())
    assert log.entries == [] and disclosed.seqs == () and disclosed.seq is None


def test_a_failure_part_way_refuses_the_answer_and_keeps_what_was_written() -> None:
    shown = Shown(order=ORDER)
    shown.add(["001"], ["personal_id"])
    shown.add(["002"], ["email"])
    log = Log(fail_after=1)
    with pytest.raises(LedgerUnavailable):
        disclose(READER, log, "sync.review", {}, "answer", b"{}", time.perf_counter(), shown)
    assert [e.personal_ids for e in log.entries] == [("001",)]  # logged and not shown, never the reverse


def test_the_purpose_is_the_operators_else_the_screens_default() -> None:
    assert Reader.of("a", "  đối chiếu  ").purpose == "đối chiếu"
    assert Reader.of("a", " ").purpose == "quản lý dân cư"
    assert Reader.of("a", None, CLI, "giải quyết yêu cầu").purpose == "giải quyết yêu cầu"
