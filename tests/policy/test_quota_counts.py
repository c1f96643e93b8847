"""The daily quota's counts in the table the worker processes of one server share (the rate table's second
region): one total per system, environment and day, whichever worker admits."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from dancu.policy import rate
from dancu.policy.rate import RateTable, SharedQuotaCounts, SharedRateLimiter, quota_counts_for_this_process, use_table
from tests.policy.racing import race

DAY = 739_588  # an ordinal (2025-12-03)
BANK = (7, "production", DAY)


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


def test_a_flush_takes_every_workers_unflushed_calls_and_learns_other_servers_counts(table: RateTable) -> None:
    first, second = SharedQuotaCounts(table), SharedQuotaCounts(table)
    first.begin(BANK, 0)
    assert first.admit(BANK, 3, 100) and second.admit(BANK, 1, 100)
    taken = second.take(BANK)  # the whole server's 4, whoever admitted them
    assert taken == 4 and first.take(BANK) == 0
    assert first.admit(BANK, 2, 100)
    second.flushed(BANK, taken, 14)  # the database now holds our 4 and another server's 10
    assert first.total(BANK) == 16  # 14 stored + 2 not yet taken
    second.flushed(BANK, 0, 12)  # a stale reading never lowers the count
    assert first.total(BANK) == 16


def test_two_flushes_crossing_count_each_call_once(table: RateTable) -> None:
    """A's flush commits first and reports last, B's commits and reports in between; 2 more calls are admitted
    meanwhile.  Each call is counted once: B's report takes in the database's counter (A's and B's amounts)
    plus the 2, and A's older reading does not lower it."""
    first, second = SharedQuotaCounts(table), SharedQuotaCounts(table)
    first.begin(BANK, 0)
    database = 0
    for round_ in range(1, 4):
        assert first.admit(BANK, 5, 1000)
        a = first.take(BANK)
        database += a
        stored_a = database  # A's commit returns the counter with its amount
        assert second.admit(BANK, 5, 1000)
        b = second.take(BANK)
        database += b
        stored_b = database
        assert first.admit(BANK, 2, 1000)  # not yet taken by anyone
        second.flushed(BANK, b, stored_b)
        first.flushed(BANK, a, stored_a)
        assert first.total(BANK) == database + 2 == 12 * round_
        database += first.take(BANK)  # the 2, flushed alone
        first.flushed(BANK, 2, database)
    assert first.total(BANK) == database == 36


def test_a_failed_flush_puts_its_amount_back(table: RateTable) -> None:
    counts = SharedQuotaCounts(table)
    counts.begin(BANK, 0)
    assert counts.admit(BANK, 3, 10)
    counts.untake(BANK, counts.take(BANK))
    assert counts.take(BANK) == 3 and counts.total(BANK) == 3


def _colliding(slots: int, day: int, count: int) -> list[tuple[int, str, int]]:
    """``count`` production keys of ``day`` whose counts start probing at the same slot."""
    shift = 64 - slots.bit_length() + 1
    by_home: dict[int, list[tuple[int, str, int]]] = {}
    for system in range(1, 1000):
        key = (system, "production", day)
        by_home.setdefault(rate._home(rate._code(key[:2]) * 1_000_003 + day, shift), []).append(key)
        if len(by_home[rate._home(rate._code(key[:2]) * 1_000_003 + day, shift)]) == count:
            return by_home[rate._home(rate._code(key[:2]) * 1_000_003 + day, shift)]
    raise AssertionError("no collision found")


def test_a_day_is_kept_through_the_next_and_its_slot_taken_after() -> None:
    made = RateTable.create(slots=4)
    try:
        counts = SharedQuotaCounts(made)
        first, second, third = _colliding(4, DAY, 3)  # the same home slot: the second and third probe on
        for key in (first, second, third):
            assert counts.begin(key, 1)
        assert counts.admit(third, 1, 9) and counts.total(third) == 2  # found two slots past its home
        assert counts.begin((first[0], "production", DAY + 1), 0)  # the next day: the fourth slot
        next_day = [(k[0], k[1], DAY + 1) for k in (second, third)]
        assert [counts.begin(k, 0) for k in next_day] == [False, False]  # full: DAY's counts kept through DAY + 1
        assert [counts.total(k) for k in (first, second, third)] == [1, 1, 2]
        two_days_on = (third[0], "production", DAY + 2)
        assert counts.begin(two_days_on, 5) and counts.total(two_days_on) == 5  # DAY's slot taken again
        assert [counts.total(k) for k in (first, second, third)].count(None) == 1
    finally:
        made.close()


def test_the_quota_region_has_a_lock_of_its_own(table: RateTable) -> None:
    """Another process holding the quota region's lock blocks quota counts, not the rate buckets."""
    import fcntl

    context = multiprocessing.get_context("spawn")
    holding, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_quota_lock, args=(table, holding, release))
    holder.start()
    try:
        assert holding.wait(60)
        start = rate._HEADER.size + rate.SLOTS * rate._SLOT.size
        fcntl.lockf(table.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, start, 0)  # the rate region: free
        fcntl.lockf(table.fd, fcntl.LOCK_UN, start, 0)
        with pytest.raises(OSError):
            fcntl.lockf(table.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, rate.SLOTS * rate._QUOTA_SLOT.size, start)
    finally:
        release.set()
        holder.join(timeout=60)


def _hold_quota_lock(table: RateTable, holding: object, release: object) -> None:
    counts = SharedQuotaCounts(table)
    with counts._slot(BANK):
        holding.set()  # type: ignore[attr-defined]
        release.wait(60)  # type: ignore[attr-defined]


Operation = tuple[int, int, int, int, int]  # what, handle, system, amount, limit


@settings(max_examples=80, deadline=None)
@given(operations=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(1, 3), st.integers(1, 5),
                                     st.sampled_from([3, 10, 40])), max_size=80),
       stored=st.integers(0, 20))
def test_shared_counts_admit_exactly_what_one_count_would(operations: list[Operation], stored: int) -> None:
    """Whatever process each call comes through, and however flushes interleave (take, commit and report are
    separate steps, each flush's in its own order), the shared counts admit what one counter per system given
    the same calls admits; the database ends up with every call once."""
    made = RateTable.create(slots=4)
    try:
        handles = [SharedQuotaCounts(made) for _ in range(3)]
        model, database = dict[int, int](), dict[int, int]()
        taken: list[tuple[int, int]] = []  # (system, amount) taken, not yet committed
        committed: list[tuple[int, int, int]] = []  # (system, amount, the counter its commit returned)
        for what, handle, system, amount, limit in operations:
            key = (system, "production", DAY)
            if what == 0:  # a call
                if handles[handle].total(key) is None:  # the first worker to meet the system's day begins
                    assert handles[handle].admit(key, amount, limit) is None
                    assert handles[(handle + 1) % 3].begin(key, stored)
                    database.setdefault(system, stored)
                used = model.setdefault(system, stored)
                expected = used + amount <= limit
                assert handles[handle].admit(key, amount, limit) is expected
                model[system] = used + amount if expected else used
            elif what == 1 and system in model:  # a flush takes
                taken.append((system, handles[handle].take(key)))
            elif what == 2 and taken:  # the oldest taken amount commits
                system, amount = taken.pop(0)
                database[system] += amount
                committed.append((system, amount, database[system]))
            elif what == 3 and committed:  # a committed flush reports, not necessarily in commit order
                system, amount, counter = committed.pop(handle % len(committed))
                handles[handle].flushed((system, "production", DAY), amount, counter)
            for known in model:
                assert handles[2].total((known, "production", DAY)) == model[known]
        for system, amount in taken:
            database[system] += amount
        for known in model:  # a last flush: the database holds every admitted call once
            key = (known, "production", DAY)
            database[known] += handles[0].take(key)
            assert database[known] == model[known]
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
    assert race(_admit, table, 20_000, 10_000) == 20_000
