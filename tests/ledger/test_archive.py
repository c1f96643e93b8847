"""Retention: archive closed months, verify the files offline, prune, and the rest still verifies."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger import archive, archive_file, merkle, service
from dancu.ledger.errors import ArchiveError, TreeSizeOutOfRange
from dancu.ledger.signing import Signer
from dancu.ledger.verify import verify_log
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry

MONTHS = [(2026, 6, 7), (2026, 7, 5), (2026, 8, 9)]  # (year, month, entries)
AFTER_PRUNE = date(2031, 8, 15)  # retention 5 years: June and July 2026 are past it, August is not


@pytest.fixture
def log(empty_ledger: Database, signer: Signer) -> Iterator[Database]:
    moment = {"now": datetime(2026, 6, 1, tzinfo=UTC)}
    url = libpq_url(empty_ledger.url)
    with LedgerWriter(lambda: psycopg.connect(url), clock=lambda: moment["now"]) as writer:
        n = 0
        for year, month, count in MONTHS:
            for day in range(count):
                moment["now"] = datetime(year, month, day + 1, 9, tzinfo=UTC)
                writer.append(make_entry(n))
                n += 1
            if month == 6:
                with empty_ledger.sessions.begin() as session:
                    service.publish_tree_head(session, signer)  # a head inside the archived range
    yield empty_ledger


def _archive(database: Database, signer: Signer, folder: Path) -> list[archive.Archived]:
    with database.sessions.begin() as session:
        return archive.archive(session, signer, folder, date(2026, 9, 1))


def _verify(database: Database, signer: Signer) -> list[tuple[str, int | None]]:
    with database.raw_connection() as conn, database.sessions() as session:
        return [(f.kind, f.seq) for f in verify_log(conn, session, signer.public_key).findings]


def test_archive_prune_and_the_tree_still_verifies(log: Database, signer: Signer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "NODE_LEVEL", 2)  # cache subtrees of 4 leaves and up on this small log
    done = _archive(log, signer, tmp_path)
    assert [(a.month, a.first_seq, a.end_seq) for a in done] == [
        (date(2026, 6, 1), 0, 7), (date(2026, 7, 1), 7, 12), (date(2026, 8, 1), 12, 21)]
    previous = None
    for item in done:  # offline, in order: each file and the chain between them
        check = archive_file.verify(item.path, signer.public_key, previous)
        assert check.ok, check.findings
        previous = check.end_link
    assert _archive(log, signer, tmp_path) == []  # nothing twice

    with log.sessions.begin() as session:
        pruned = archive.prune(session, tmp_path, signer.public_key, years=5, today=AFTER_PRUNE)
    assert [p.month.month for p in pruned] == [6, 7]
    with log.sessions() as session:
        assert session.execute(text("SELECT min(seq) FROM ledger_entry")).scalar() == 12
    assert _verify(log, signer) == []

    url = libpq_url(log.url)  # the log goes on after the prune, and still verifies
    with LedgerWriter(lambda: psycopg.connect(url)) as writer:
        for i in range(4):
            writer.append(make_entry(100 + i))
    with log.sessions.begin() as session:
        head = service.publish_tree_head(session, signer)
        assert head.tree_size == 25
        proof = service.inclusion(session, 14)  # its path crosses the pruned months: from cached nodes
        leaf = bytes.fromhex(str(proof["leaf_hash"]))
        assert merkle.verify_inclusion(leaf, 14, 25, _hashes(proof["proof"]),
                                       head.root_hash)
        with pytest.raises(TreeSizeOutOfRange):
            service.inclusion(session, 3)  # a pruned entry: its proof comes from the archive
    assert _verify(log, signer) == []
    with log.raw_connection() as conn:  # an insider now alters a kept entry: still pinpointed
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE ledger_entry SET purpose = 'khác' WHERE seq = 14")
        conn.commit()
    assert ("altered", 14) in _verify(log, signer)


def _rewrite(path: Path, change: object) -> None:
    lines = gzip.decompress(path.read_bytes()).split(b"\n")
    assert callable(change)
    path.write_bytes(gzip.compress(b"\n".join(change(lines))))


def test_tampering_with_an_archive_is_detected_offline(log: Database, signer: Signer, tmp_path: Path) -> None:
    june, july, _ = _archive(log, signer, tmp_path)
    _rewrite(july.path, lambda ls: [ls[0], ls[1].replace(b'"result":"match"', b'"result":"no_match"'), *ls[2:]])
    check = archive_file.verify(july.path, signer.public_key)
    assert not check.ok and any("altered" in f for f in check.findings)

    _rewrite(june.path, lambda ls: [ls[0], ls[2], ls[1], *ls[3:]])  # two entries swapped
    assert any("reordered" in f for f in archive_file.verify(june.path, signer.public_key).findings)

    other = Signer.from_seed(bytes(32))
    assert not archive_file.verify(july.path, other.public_key).ok
    assert not archive_file.verify(july.path, signer.public_key, {"tree_size": 7, "root_hash": "00" * 32}).ok

    with log.sessions.begin() as session, pytest.raises(ArchiveError):  # and prune refuses to drop June
        archive.prune(session, tmp_path, signer.public_key, years=5, today=AFTER_PRUNE)
    with log.sessions() as session:
        assert session.execute(text("SELECT min(seq) FROM ledger_entry")).scalar() == 0


def test_prune_needs_an_archive(log: Database, signer: Signer, tmp_path: Path) -> None:
    with log.sessions.begin() as session:
        assert archive.prune(session, tmp_path, signer.public_key, years=5, today=AFTER_PRUNE) == []
    assert _verify(log, signer) == []


def test_verify_archive_command(log: Database, signer: Signer, tmp_path: Path) -> None:
    import base64

    from typer.testing import CliRunner

    from dancu.ledger.cli import app

    files = [str(a.path) for a in _archive(log, signer, tmp_path)]
    key = base64.b64encode(signer.public_key).decode()
    runner = CliRunner()
    ok = runner.invoke(app, ["verify-archive", *files, "--public-key", key])
    assert ok.exit_code == 0, ok.output
    broken_chain = runner.invoke(app, ["verify-archive", files[0], files[2], "--public-key", key])
    assert broken_chain.exit_code == 1 and "chain broken" in broken_chain.output


def test_archive_and_prune_commands(log: Database, signer: Signer, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    from typer.testing import CliRunner

    from dancu.ledger import cli, cli_archive

    monkeypatch.setattr(cli_archive, "get_database", lambda: log)
    monkeypatch.setattr(cli_archive, "load_signer", lambda _settings: signer)
    monkeypatch.setattr(cli, "get_database", lambda: log)
    runner, key = CliRunner(), base64.b64encode(signer.public_key).decode()
    archived = runner.invoke(cli.app, ["archive", "--before", "2026-08", "--dir", str(tmp_path)])
    assert archived.exit_code == 0 and "2026-06" in archived.output and "2026-08" not in archived.output
    pruned = runner.invoke(cli.app, ["prune", "--retention-years", "0", "--dir", str(tmp_path), "--public-key", key])
    assert pruned.exit_code == 0 and "dropped 2026-07" in pruned.output, pruned.output
    verified = runner.invoke(cli.app, ["verify", "--public-key", key])
    assert verified.exit_code == 0 and "seq 0..11 pruned" in verified.output, verified.output


def _hashes(values: object) -> list[bytes]:
    assert isinstance(values, list)
    return [bytes.fromhex(v) for v in values]
