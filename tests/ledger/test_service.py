"""Tree heads: incremental publication equals a full recomputation."""

from __future__ import annotations

from sqlalchemy import text

from dancu.db import Database
from dancu.ledger import merkle, repository, service
from dancu.ledger.signing import Signer, load_signer, verify_head
from dancu.ledger.writer import LedgerWriter
from tests.ledger.factories import make_entry


def test_incremental_heads_match_the_full_root(writer: LedgerWriter, empty_ledger: Database, signer: Signer) -> None:
    for batch in (1, 4, 27):
        for i in range(batch):
            writer.append(make_entry(i))
        with empty_ledger.sessions.begin() as session:
            head = service.publish_tree_head(session, signer)
            leaves = repository.leaf_hashes(session, 0, head.tree_size)
        assert head.root_hash == merkle.root(leaves) and verify_head(head, signer.public_key)
    with empty_ledger.sessions.begin() as session:
        assert service.publish_tree_head(session, signer) == head  # nothing new: the same head


def test_a_key_is_generated_once_when_none_is_configured(tmp_path: object) -> None:
    from pathlib import Path

    from dancu.config import Settings

    settings = Settings(data_dir=Path(str(tmp_path)), ledger_signing_key=None)
    first, second = load_signer(settings), load_signer(settings)
    assert first.public_key == second.public_key
    assert (Path(str(tmp_path)) / "ledger-signing.key").stat().st_mode & 0o777 == 0o600


def test_proofs_from_cached_nodes(writer: LedgerWriter, empty_ledger: Database, signer: Signer,
                                  monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(service, "NODE_LEVEL", 2)  # cache subtrees of 4 leaves and up on this small log
    for i in range(37):
        writer.append(make_entry(i))
    with empty_ledger.sessions.begin() as session:
        first = service.publish_tree_head(session, signer, upto=21)
        head = service.publish_tree_head(session, signer)
        leaves = repository.leaf_hashes(session, 0, 37)
        cached = session.execute(text("SELECT count(*) FROM ledger_node")).scalar_one()
        assert cached == sum(37 >> level for level in range(2, 6))
        for seq in (0, 5, 20, 36):
            proof = service.inclusion(session, seq)
            assert proof["proof"] == [p.hex() for p in merkle.inclusion_proof(seq, 37, merkle.in_memory(leaves))]
            assert merkle.verify_inclusion(leaves[seq], seq, 37, _hashes(proof["proof"]),
                                           head.root_hash)
        consistency = service.consistency(session, 21, 37)["proof"]
        assert merkle.verify_consistency(21, 37, first.root_hash, head.root_hash,
                                         _hashes(consistency))


def _hashes(values: object) -> list[bytes]:
    assert isinstance(values, list)
    return [bytes.fromhex(v) for v in values]
