"""Migration 0019 tunes the exchange log's partitions for a little-and-often autovacuum and a small ANALYZE
sample: those there are, and those ``ledger_ensure_partition`` makes later; the downgrade puts the server's
defaults back and new partitions are plain again."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from dancu.db import migrate as migrations
from dancu.db.engine import libpq_url
from dancu.db.scratch import scratch_database

TUNED = {"autovacuum_vacuum_insert_threshold=100000", "autovacuum_vacuum_insert_scale_factor=0.02",
         "autovacuum_freeze_min_age=0", "autovacuum_vacuum_cost_limit=50"}
FAR_MONTH = datetime(2031, 5, 17, tzinfo=UTC)


def _partitions(conn: psycopg.Connection) -> list[str]:
    """The plain-table partitions, schema-qualified."""
    return [r[0] for r in conn.execute("SELECT i.inhrelid::regclass::text FROM pg_inherits i "
                                       "JOIN pg_class c ON c.oid = i.inhrelid "
                                       "WHERE i.inhparent = 'ledger_entry'::regclass AND c.relkind = 'r' ORDER BY 1")]


def _options(conn: psycopg.Connection, partition: str) -> set[str]:
    row = conn.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", (partition,)).fetchone()
    assert row is not None
    return set(row[0] or ())


def _targets(conn: psycopg.Connection, partition: str) -> dict[str, int]:
    """Each column's statistics target, -1 for the server's default (PostgreSQL 17 stores that as NULL)."""
    return {name: int(target) for name, target in conn.execute(
        "SELECT attname, coalesce(attstattarget, -1) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (partition,))}


def _assert_tuned(conn: psycopg.Connection, partition: str) -> None:
    assert _options(conn, partition) == TUNED
    targets = _targets(conn, partition)
    untuned = {"request_hash", "response_hash", "leaf_hash", "correlation_id", "latency_ms"}
    assert {"seq", "recorded_at", "client_system", "personal_ids", "result", "extra_note"} <= set(targets)
    assert targets == {c: 0 if c in untuned else 10 for c in targets}, targets


def _assert_plain(conn: psycopg.Connection, partition: str) -> None:
    assert _options(conn, partition) == set()
    assert set(_targets(conn, partition).values()) == {-1}


def _ensure(conn: psycopg.Connection, moment: datetime) -> str:
    row = conn.execute("SELECT ledger_ensure_partition(%s)", (moment,)).fetchone()
    assert row is not None
    return f"ledger_partitions.{row[0]}"


def test_partitions_old_and_new_are_tuned_and_the_downgrade_untunes_them(database_url: str) -> None:
    with scratch_database(database_url, prefix="dancu_m19") as url:
        migrations.upgrade(url, "0018")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            # what the tuning must cope with: a default partition in another schema (plain: tuned), a
            # sub-partitioned one (no storage parameters of its own: left alone), a column added later
            conn.execute("ALTER TABLE ledger_entry ADD COLUMN extra_note text")
            conn.execute("CREATE TABLE public.ledger_entry_default PARTITION OF ledger_entry DEFAULT")
            conn.execute("CREATE TABLE ledger_partitions.ledger_entry_2030 PARTITION OF ledger_entry "
                         "FOR VALUES FROM ('2030-01-01') TO ('2031-01-01') PARTITION BY RANGE (recorded_at)")
            existing = _partitions(conn)
            assert len(existing) >= 3 and "ledger_entry_default" in existing
            for partition in existing:
                _assert_plain(conn, partition)
        migrations.upgrade(url, "0019")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for partition in existing:
                _assert_tuned(conn, partition)
            made = _ensure(conn, FAR_MONTH)
            assert made == "ledger_partitions.ledger_entry_2031m05" and made in _partitions(conn)
            _assert_tuned(conn, made)
            assert _ensure(conn, FAR_MONTH) == made  # there already: left as it is
        migrations.downgrade(url, "0018")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for partition in [*existing, made]:
                _assert_plain(conn, partition)
            later = _ensure(conn, datetime(2031, 7, 2, tzinfo=UTC))
            _assert_plain(conn, later)
            row = conn.execute("SELECT to_regprocedure('ledger_tune_partition(regclass)')").fetchone()
            assert row is not None and row[0] is None


def test_analyze_keeps_no_statistics_for_the_hashes_and_a_small_histogram(database_url: str) -> None:
    """What the targets buy: ANALYZE of a tuned partition stores nothing for the columns no query filters on,
    and at most 11 histogram bounds (target 10) for seq."""
    with scratch_database(database_url, prefix="dancu_m19s") as url:
        migrations.upgrade(url, "0019")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            partition = _ensure(conn, FAR_MONTH)
            conn.execute(
                "INSERT INTO ledger_entry (seq, recorded_at, kind, client_system, service, purpose, personal_ids, "
                "fields_disclosed, result, request_hash, response_hash, latency_ms, correlation_id, leaf_hash) "
                "SELECT n, %s::timestamptz + n * interval '1 second', 'exchange', 'VN/GOV/1/sys' || (n %% 7), "
                "'verify', 'kyc', ARRAY[lpad(n::text, 12, '0')], ARRAY[]::text[], 'match', "
                "sha256(n::text::bytea), sha256(n::text::bytea), n %% 50, md5(n::text), sha256(n::text::bytea) "
                "FROM generate_series(1, 5000) AS n", (datetime(2031, 5, 1, tzinfo=UTC),))
            conn.execute(f"ANALYZE {partition}")
            stats = {r[0]: r[1] for r in conn.execute(
                "SELECT attname, array_length(histogram_bounds::text::text[], 1) FROM pg_stats "
                "WHERE schemaname = 'ledger_partitions' AND tablename = %s", (partition.split(".")[1],))}
            assert {"request_hash", "response_hash", "leaf_hash", "correlation_id", "latency_ms"}.isdisjoint(stats)
            assert "client_system" in stats and "personal_ids" in stats
            assert stats["seq"] is not None and 2 <= stats["seq"] <= 11
