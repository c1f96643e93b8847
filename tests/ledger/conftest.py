from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.signing import Signer
from dancu.ledger.writer import LedgerWriter


def truncate_ledger(database: Database) -> None:
    with database.raw_connection(autocommit=True) as conn:
        conn.execute("TRUNCATE ledger_entry, ledger_tree_head, ledger_archive, ledger_node")  # and ledger_state


@pytest.fixture
def empty_ledger(database: Database) -> Database:
    """The ledger tables emptied (committed): ledger tests that write for real start from nothing."""
    truncate_ledger(database)
    return database


@pytest.fixture
def writer(empty_ledger: Database) -> Iterator[LedgerWriter]:
    url = libpq_url(empty_ledger.url)
    with LedgerWriter(lambda: psycopg.connect(url)) as w:
        yield w


@pytest.fixture
def signer() -> Signer:
    return Signer.from_seed(bytes(range(32)))
