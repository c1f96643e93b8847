"""Migration 0018 drops the exchange log's second index on ``seq`` from the parent and every partition; reads
by seq still go through an index (each partition's primary key, which leads with seq), and the downgrade
builds the index again on every partition."""

from __future__ import annotations

import psycopg

from dancu.db import migrate as migrations
from dancu.db.engine import libpq_url
from dancu.db.scratch import scratch_database

SEQ_INDEXES = ("SELECT count(*) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
               "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] "
               "WHERE (t.relname = 'ledger_entry' OR t.relispartition AND t.relname LIKE 'ledger_entry_%') "
               "AND a.attname = 'seq' AND i.indnatts = 1")


def _partitions(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'ledger_entry'::regclass").fetchone()
    assert row is not None
    return int(row[0])


def _seq_only_indexes(conn: psycopg.Connection) -> int:
    row = conn.execute(SEQ_INDEXES).fetchone()
    assert row is not None
    return int(row[0])


def test_the_log_keeps_one_index_on_seq_and_the_downgrade_restores_the_second(database_url: str) -> None:
    with scratch_database(database_url, prefix="dancu_m18") as url:
        migrations.upgrade(url, "0017")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            partitions = _partitions(conn)
            assert partitions >= 2 and _seq_only_indexes(conn) == partitions + 1  # the parent's and each one's
        migrations.upgrade(url, "0018")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            assert _seq_only_indexes(conn) == 0
            conn.execute("SET enable_seqscan = off")  # an empty table: make the planner show what it can use
            plan = "\n".join(r[0] for r in conn.execute(
                "EXPLAIN SELECT leaf_hash FROM ledger_entry WHERE seq >= 10 AND seq < 20 ORDER BY seq"))
            assert "_pkey" in plan and "Sort" not in plan.split("\n")[0], plan
        migrations.downgrade(url, "0017")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            assert _seq_only_indexes(conn) == _partitions(conn) + 1
