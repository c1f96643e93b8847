"""The writer's hand-made COPY text rows store exactly the entry's fields."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.ledger import repository
from dancu.ledger.domain import RecordedEntry, entry_leaf_hash, format_time
from dancu.ledger.encoding import copy_row, prepare
from tests.ledger.test_domain import recorded

CASTS = {"personal_ids": "text[]", "fields_disclosed": "text[]", "request_hash": "bytea", "response_hash": "bytea",
         "leaf_hash": "bytea", "seq": "bigint", "recorded_at": "timestamptz", "latency_ms": "int"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(recorded(), min_size=1, max_size=4))
def test_copy_rows_round_trip(session: Session, items: list[RecordedEntry]) -> None:
    conn = session.connection().connection.driver_connection
    assert conn is not None
    columns = ", ".join(f"{c} {CASTS.get(c, 'text')}" for c in repository.ENTRY_COLUMNS)
    session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS copied ({columns})"))
    session.execute(text("TRUNCATE copied"))
    data = b"".join(copy_row(prepare(item.entry), item.seq, format_time(item.recorded_at).encode(),
                             entry_leaf_hash(item)) for item in items)
    with conn.cursor() as cur, cur.copy(f"COPY copied ({', '.join(repository.ENTRY_COLUMNS)}) FROM STDIN") as copy:
        copy.write(data)
    rows = session.execute(text(f"SELECT {', '.join(repository.ENTRY_COLUMNS)} FROM copied")).all()
    for item, row in zip(items, rows, strict=True):
        back, leaf = repository.recorded_from_row(row)
        assert back.entry == item.entry and back.seq == item.seq and leaf == entry_leaf_hash(item)
        assert format_time(back.recorded_at) == format_time(item.recorded_at)
