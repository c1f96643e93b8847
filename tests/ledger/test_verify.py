"""Tamper with the stored log directly in the database; verify must name the exact entry and what happened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dancu.db import Database
from dancu.ledger import service
from dancu.ledger.signing import Signer, verify_head
from dancu.ledger.verify import Report, verify_log
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry

ENTRIES = 40


@pytest.fixture
def ledger(writer: LedgerWriter, empty_ledger: Database, signer: Signer) -> Iterator[Database]:
    """40 entries with signed heads at 16, 33 and 40."""
    for size in (16, 33, ENTRIES):
        while writer.next_seq < size:
            writer.append(make_entry(writer.next_seq))
        with empty_ledger.sessions.begin() as session:
            service.publish_tree_head(session, signer)
    yield empty_ledger


def _tamper(database: Database, sql: str) -> None:
    with database.raw_connection() as conn:
        conn.execute("SET session_replication_role = replica")  # an insider who bypasses the append-only trigger
        conn.execute(sql)
        conn.commit()


def _verify(database: Database, signer: Signer) -> Report:
    with database.raw_connection() as conn, database.sessions() as session:
        return verify_log(conn, session, signer.public_key)


def _kinds(report: Report) -> list[tuple[str, int | None]]:
    return [(f.kind, f.seq) for f in report.findings]


def test_an_intact_log_verifies(ledger: Database, signer: Signer) -> None:
    report = _verify(ledger, signer)
    assert report.ok and report.entries == ENTRIES and report.heads == 3


def test_append_only_trigger_blocks_ordinary_updates(ledger: Database) -> None:
    with ledger.raw_connection() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute("UPDATE ledger_entry SET purpose = 'x' WHERE seq = 1")


def test_an_altered_field_is_named(ledger: Database, signer: Signer) -> None:
    _tamper(ledger, "UPDATE ledger_entry SET purpose = 'tiếp thị' WHERE seq = 21")
    # the stored leaf hash still folds into the signed roots, so the fields are what changed
    assert _kinds(_verify(ledger, signer)) == [("altered", 21)]


def test_an_altered_leaf_hash_is_told_apart_from_altered_fields(ledger: Database, signer: Signer) -> None:
    _tamper(ledger, "UPDATE ledger_entry SET leaf_hash = sha256('x') WHERE seq = 5")
    assert _kinds(_verify(ledger, signer)) == [("leaf_hash_altered", 5)]


def test_a_deleted_entry_is_named(ledger: Database, signer: Signer) -> None:
    _tamper(ledger, "DELETE FROM ledger_entry WHERE seq = 7")
    kinds = _kinds(_verify(ledger, signer))
    assert kinds[0] == ("removed", 7)
    assert {kind for kind, seq in kinds if seq != 7} <= {"head_beyond_log"}
    assert ("root_mismatch", 7) in kinds


def test_entries_cut_off_the_end_are_found_from_the_signed_head(ledger: Database, signer: Signer) -> None:
    _tamper(ledger, "DELETE FROM ledger_entry WHERE seq >= 38")
    assert _kinds(_verify(ledger, signer)) == [("head_beyond_log", 38)]


def test_swapped_entries_are_named(ledger: Database, signer: Signer) -> None:
    _tamper(ledger, "UPDATE ledger_entry SET seq = CASE seq WHEN 10 THEN 12 ELSE 10 END WHERE seq IN (10, 12)")
    report = _verify(ledger, signer)
    assert ("reordered", 10) in _kinds(report) and ("reordered", 12) in _kinds(report)
    assert any("recorded as seq 12" in f.detail for f in report.findings if f.seq == 10)


def test_a_rewritten_entry_with_a_recomputed_hash_is_caught_by_the_signed_head(
        ledger: Database, signer: Signer) -> None:
    from dancu.ledger import repository

    _tamper(ledger, "UPDATE ledger_entry SET result = 'no_match' WHERE seq = 35")
    _tamper(ledger, f"UPDATE ledger_entry SET leaf_hash = {repository.RECOMPUTED_SQL} WHERE seq = 35")
    report = _verify(ledger, signer)
    assert _kinds(report) == [("root_mismatch", 33)]  # the head at 33 is intact; the one at 40 is not


def test_a_forged_tree_head_fails(ledger: Database, signer: Signer) -> None:
    _tamper(ledger, "UPDATE ledger_tree_head SET tree_size = 41 WHERE tree_size = 40")
    kinds = _kinds(_verify(ledger, signer))
    assert ("head_beyond_log", ENTRIES) in kinds


def test_tree_head_signature(ledger: Database, signer: Signer) -> None:
    with ledger.sessions() as session:
        head = service.latest_head(session)
    assert verify_head(head, signer.public_key)
    other = Signer.from_seed(bytes(32))
    assert not verify_head(head, other.public_key)
    forged = type(head)(head.tree_size, bytes(32), head.timestamp_ms, head.key_id, head.signature)
    assert not verify_head(forged, signer.public_key)
    _tamper(ledger, "UPDATE ledger_tree_head SET timestamp_ms = timestamp_ms + 1 WHERE tree_size = 16")
    assert ("bad_signature", None) in _kinds(_verify(ledger, signer))
