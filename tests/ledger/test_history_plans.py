"""A resident's history (the citizen's, and the inspectors' search by resident) is found through the GIN index
on ``personal_ids``, not by walking every monthly partition's primary key backwards: on a year of partitions
the planner prefers that walk for ``ORDER BY seq DESC LIMIT``, which reads the whole log for a resident named
in few entries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dancu.db import migrate as migrations
from dancu.db.engine import libpq_url
from dancu.db.scratch import scratch_database
from dancu.ledger.inspection_repository import ACCESS_HISTORY_SQL, SearchFilter, access_history, search, search_sql

ENTRIES = 120_000
RESIDENT = "000000012345"  # named in entries 12,345 and 62,345 (every 50,000th id repeats)


@pytest.fixture(scope="module")
def year_of_log(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, prefix="dancu_hist") as url:
        migrations.upgrade(url, "head")
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for month in range(1, 13):
                conn.execute("SELECT ledger_ensure_partition(%s)", (datetime(2025, month, 5, tzinfo=UTC),))
            conn.execute(
                "INSERT INTO ledger_entry (seq, recorded_at, kind, client_system, service, purpose, personal_ids, "
                "fields_disclosed, result, request_hash, response_hash, latency_ms, correlation_id, leaf_hash) "
                "SELECT n, '2025-01-01'::timestamptz + n * interval '250 seconds', 'exchange', "
                "'VN/GOV/1/sys' || (n %% 7), 'verify', 'kyc', ARRAY[lpad((n %% 50000)::text, 12, '0')], "
                "ARRAY['ho_ten'], 'match', sha256(n::text::bytea), sha256(n::text::bytea), n %% 50, md5(n::text), "
                "sha256(n::text::bytea) FROM generate_series(1, %s) AS n", (ENTRIES,))
            conn.execute("ANALYZE ledger_entry")
            conn.execute("VACUUM ANALYZE")
        yield url


def _plan(session: Session, sql: str, params: dict[str, object]) -> str:
    return "\n".join(row[0] for row in session.execute(sa.text(f"EXPLAIN {sql}"), params))


def _assert_through_the_gin_index(plan: str) -> None:
    assert "personal_ids_idx" in plan and "Bitmap Index Scan" in plan, plan
    assert "Index Scan Backward" not in plan, plan


def test_the_citizens_history_goes_through_the_gin_index(year_of_log: str) -> None:
    engine = sa.create_engine(year_of_log)
    try:
        with Session(engine) as session:
            params = {"pid": RESIDENT, "before": None, "limit": 50}
            _assert_through_the_gin_index(_plan(session, ACCESS_HISTORY_SQL, params))
            _assert_through_the_gin_index(_plan(session, ACCESS_HISTORY_SQL, {**params, "before": 60_000}))
            rows = access_history(session, RESIDENT, 50, None)
            assert [row.seq for row in rows] == [112_345, 62_345, 12_345]
            assert [row.seq for row in access_history(session, RESIDENT, 1, 112_345)] == [62_345]
    finally:
        engine.dispose()


def test_the_inspectors_search_by_resident_goes_through_the_gin_index(year_of_log: str) -> None:
    engine = sa.create_engine(year_of_log)
    try:
        with Session(engine) as session:
            where = SearchFilter(personal_id=RESIDENT, service="verify")
            sql, params = search_sql(where, None)
            _assert_through_the_gin_index(_plan(session, sql, {**params, "limit": 100}))
            assert [row.seq for row in search(session, where, 2, None)] == [112_345, 62_345]
            assert [row.seq for row in search(session, where, 100, 62_345)] == [12_345]
            sql, params = search_sql(SearchFilter(service="verify"), None)  # no resident: the plain newest-first
            assert "hits" not in sql and len(search(session, SearchFilter(service="verify"), 3, None)) == 3
    finally:
        engine.dispose()
