"""Tree heads: incremental publication equals a full recomputation."""

from __future__ import annotations

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
