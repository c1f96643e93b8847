"""The daily quota's counts in the table the worker processes of one server share (the rate table's second
region): one total per system, environment and day, whichever worker admits."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from dancu.policy import rate
from dancu.policy.rate import RateTable, SharedQuotaCounts, SharedRateLimiter, quota_counts_for_this_process, use_table

DAY = 739_588  # an ordinal (2025-12-03)
BANK = (7, "production", DAY)


@pytest.fixture
def table() -> Iterator[RateTable]:
    made = RateTable.create()
    yield made
    made.close()


def test_a_count_begins_at_the_stored_total_and_is_shared(table: RateTable) -> None:
    first, second = SharedQuotaCounts(table), SharedQuotaCounts(table)
    assert first.admit(BANK, 1, 10) is None  # nobody began it
    assert first.begin(BANK, 7) and second.begin(BANK, 0)  # the second finds it begun: 7 stays
    assert [first.admit(BANK, 1, 10), second.admit(BANK, 2, 10), first.admit(BANK, 1, 10)] == [True, True, False]
    assert second.total(BANK) == 10


def test_systems_environments_and_days_count_apart(table: RateTable) -> None:
    counts = SharedQuotaCounts(table)
    keys = [BANK, (7, "test", DAY), (8, "production", DAY), (7, "production", DAY + 1)]
    for key in keys:
        assert counts.begin(key, 0) and counts.admit(key, 5, 5)
    assert [counts.total(key) for key in keys] == [5] * 4
    assert all(counts.admit(key, 1, 5) is False for key in keys)


def test_a_flush_takes_the_stored_total_and_never_lowers_the_count(table: RateTable) -> None:
    counts = SharedQuotaCounts(table)
    counts.begin(BANK, 0)
    assert counts.admit(BANK, 4, 100)
    counts.flushed(BANK, 3, 13)  # 3 of the 4 stored, other servers' 10 with them; 1 still unflushed
    assert counts.total(BANK) == 14
    counts.flushed(BANK, 1, 12)  # a stale reading: the count stays
    assert counts.total(BANK) == 14


def test_past_days_are_freed_once_flushed_and_their_slots_taken_again() -> None:
    made = RateTable.create(slots=2)
    try:
        counts = SharedQuotaCounts(made)
        yesterday, today = (7, "production", DAY - 1), (7, "production", DAY)
        assert counts.begin(yesterday, 0) and counts.admit(yesterday, 1, 9)
        assert counts.begin((8, "production", DAY - 1), 0)
        assert not counts.begin(today, 0)  # two slots, both taken: no room
        counts.forget(yesterday, DAY)
        assert counts.total(yesterday) == 1  # still unflushed: kept
        counts.flushed(yesterday, 1, 1)
        counts.forget(yesterday, DAY)
        counts.forget(today, DAY)  # today's is never freed
        assert counts.total(yesterday) is None and counts.begin(today, 3) and counts.total(today) == 3
        assert counts.total((8, "production", DAY - 1)) == 0  # found past the freed slot
        counts.forget((8, "production", DAY - 1), DAY + 1)  # before yesterday: freed whatever is unflushed
        assert counts.total((8, "production", DAY - 1)) is None
    finally:
        made.close()


Operation = tuple[int, int, int, int]  # handle, system, amount, limit


@settings(max_examples=60, deadline=None)
@given(operations=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 4), st.integers(1, 5),
                                     st.sampled_from([3, 10, 40])), max_size=60),
       stored=st.integers(0, 20))
def test_shared_counts_admit_exactly_what_one_count_would(operations: list[Operation], stored: int) -> None:
    """Whatever process each call comes through, the shared counts admit what one counter per system, given
    the same calls in the same order, admits."""
    made = RateTable.create(slots=8)
    try:
        handles, model = [SharedQuotaCounts(made) for _ in range(3)], dict[int, int]()
        for handle, system, amount, limit in operations:
            key = (system, "production", DAY)
            if handles[handle].total(key) is None:  # the first worker to meet the system's day begins its count
                assert handles[handle].admit(key, amount, limit) is None
                assert handles[(handle + 1) % 3].begin(key, stored)
            used = model.setdefault(system, stored)
            expected = used + amount <= limit
            assert handles[handle].admit(key, amount, limit) is expected
            model[system] = used + amount if expected else used
            assert handles[(handle + 2) % 3].total(key) == model[system]
    finally:
        made.close()


def test_a_table_of_the_previous_release_has_rate_buckets_and_no_quota_counts(tmp_path: Path) -> None:
    """A supervisor of the previous release hands its new workers a rate-only table: they share its buckets and
    count the quota each in its own process."""
    older = tmp_path / "older"
    older.write_bytes(rate._HEADER.pack(b"DANCURT1", 4) + bytes(4 * rate._SLOT.size))
    with older.open("r+b") as file:
        table = RateTable(file.fileno())
        assert SharedRateLimiter(table).allow((7, "production"), 1, 1.0) is None
        with pytest.raises(ValueError, match="no quota counts"):
            SharedQuotaCounts(table)
        use_table(table)
        try:
            assert quota_counts_for_this_process() is None
        finally:
            use_table(None)


def test_a_worker_uses_its_supervisors_counts_one_for_all_its_runtimes(table: RateTable) -> None:
    assert quota_counts_for_this_process() is None
    use_table(table)
    try:
        counts = quota_counts_for_this_process()
        assert isinstance(counts, SharedQuotaCounts) and quota_counts_for_this_process() is counts
    finally:
        use_table(None)
    assert quota_counts_for_this_process() is None


def _admit(table: RateTable, limit: int, attempts: int, start: object, admitted: object) -> None:
    counts = SharedQuotaCounts(table)
    counts.begin(BANK, 0)
    start.wait()  # type: ignore[attr-defined]
    admitted.put(sum(bool(counts.admit(BANK, 1, limit)) for _ in range(attempts)))  # type: ignore[attr-defined]


def test_processes_racing_for_one_quota_admit_exactly_the_quota(table: RateTable) -> None:
    """Four processes admit at once, twice as often as the quota allows: it is spent exactly (an update lost
    between two processes would admit more)."""
    context = multiprocessing.get_context("spawn")
    admitted, start = context.Queue(), context.Barrier(4)
    racers = [context.Process(target=_admit, args=(table, 20_000, 10_000, start, admitted)) for _ in range(4)]
    for racer in racers:
        racer.start()
    counts = [admitted.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
    assert sum(counts) == 20_000
