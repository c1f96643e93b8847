"""The canonical bytes: one definition, three renderings (orjson, the standard library, PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.ledger import repository
from dancu.ledger.domain import (
    CANONICAL_KEYS,
    RecordedEntry,
    canonical_bytes,
    canonical_bytes_reference,
    entry_leaf_hash,
)
from dancu.ledger.merkle import leaf_hash
from tests.ledger.factories import make_entry

# PostgreSQL text cannot hold NUL; surrogates are not Unicode scalar values.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20)
MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@st.composite
def recorded(draw: st.DrawFn) -> RecordedEntry:
    entry = make_entry(
        draw(st.integers(0, 10**6)), client_system=draw(TEXT), purpose=draw(TEXT),
        end_user=draw(st.none() | TEXT), error_code=draw(st.none() | TEXT),
        personal_ids=tuple(draw(st.lists(TEXT, max_size=3))), fields_disclosed=tuple(draw(st.lists(TEXT, max_size=3))),
        request_hash=draw(st.binary(max_size=40)), latency_ms=draw(st.integers(0, 2**31 - 1)))
    return RecordedEntry(draw(st.integers(0, 2**62)), draw(MOMENT), entry)


def test_canonical_bytes_are_sorted_compact_utf8_json() -> None:
    item = RecordedEntry(7, datetime(2026, 11, 29, 8, 30, 1, 5, tzinfo=UTC), make_entry(3))
    raw = canonical_bytes(item)
    decoded = json.loads(raw)
    assert tuple(decoded) == CANONICAL_KEYS
    assert decoded["recorded_at"] == "2026-11-29T08:30:01.000005Z"
    assert decoded["seq"] == 7 and decoded["v"] == 1
    assert "xác minh".encode() in raw and b'", "' not in raw and b'": ' not in raw
    assert entry_leaf_hash(item) == leaf_hash(raw)


@settings(max_examples=200, deadline=None)
@given(recorded())
def test_fast_rendering_equals_the_definition(item: RecordedEntry) -> None:
    assert canonical_bytes(item) == canonical_bytes_reference(item)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=recorded())
def test_postgresql_rendering_equals_the_definition(session: Session, item: RecordedEntry) -> None:
    row = repository.entry_row(item, b"")
    casts = {"personal_ids": "text[]", "fields_disclosed": "text[]"}
    params = dict(zip(repository.ENTRY_COLUMNS, row, strict=True))
    select = ", ".join(f"CAST(:{c} AS {casts[c]}) AS {c}" if c in casts else f":{c} AS {c}"
                       for c in repository.ENTRY_COLUMNS)
    rendered = session.execute(text(f"SELECT {repository.CANONICAL_SQL} FROM (SELECT {select}) AS ledger_entry"),
                               params).scalar_one()
    assert bytes(rendered) == canonical_bytes_reference(item)


@settings(max_examples=200, deadline=None)
@given(recorded())
def test_prepared_entries_render_the_canonical_bytes(item: RecordedEntry) -> None:
    from dancu.ledger.domain import format_time
    from dancu.ledger.encoding import prepare

    ts = format_time(item.recorded_at).encode()
    prepared = prepare(item.entry)
    assert prepared.canonical(item.seq, ts) == canonical_bytes_reference(item)
    assert prepared.leaf_hash(item.seq, ts) == entry_leaf_hash(item)
