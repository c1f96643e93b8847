"""The rate limiter's buckets, in the process and in the table the worker processes of one server share."""

from __future__ import annotations

import logging
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from dancu.policy.domain import Rule
from dancu.policy.rate import RateLimiter, RateTable, SharedRateLimiter, for_this_process, use_table
from tests.policy.racing import race

BANK, TELECOM = (7, "production"), (8, "production")


def test_two_processes_views_of_one_table_spend_one_bucket(table: RateTable) -> None:
    first, second = SharedRateLimiter(table), SharedRateLimiter(table)
    assert [first.allow(BANK, 3, 100.0), second.allow(BANK, 3, 100.0), first.allow(BANK, 3, 100.0)] == [None] * 3
    refused = second.allow(BANK, 3, 100.0)
    assert refused is not None and refused.rule == Rule.RATE_LIMITED and refused.value == "3"
    assert first.allow(BANK, 3, 100.2) is not None  # 0.6 of a token back after 0.2 s: refused...
    assert second.allow(BANK, 3, 100.5) is None  # ...1.5 by half a second: one passes


def test_systems_and_environments_have_buckets_of_their_own(table: RateTable) -> None:
    limiter = SharedRateLimiter(table)
    assert limiter.allow(BANK, 1, 5.0) is None
    assert limiter.allow(BANK, 1, 5.0) is not None
    assert limiter.allow(TELECOM, 1, 5.0) is None
    assert limiter.allow((7, "test"), 1, 5.0) is None  # the bank's test calls spend their own rate


def test_a_token_given_back_in_one_process_is_there_for_the_other(table: RateTable) -> None:
    first, second = SharedRateLimiter(table), SharedRateLimiter(table)
    assert first.allow(BANK, 1, 10.0) is None
    assert second.allow(BANK, 1, 10.0) is not None
    first.give_back(BANK, 1)
    assert second.allow(BANK, 1, 10.0) is None
    second.give_back(TELECOM, 1)  # a bucket never used: nothing to give back, nothing made
    assert first.allow(TELECOM, 1, 10.0) is None and first.allow(TELECOM, 1, 10.0) is not None


def test_a_clock_read_earlier_by_another_process_never_takes_tokens_back(table: RateTable) -> None:
    first, second = SharedRateLimiter(table), SharedRateLimiter(table)
    assert first.allow(BANK, 2, 50.0) is None  # one token left
    assert second.allow(BANK, 2, 49.0) is None  # its clock read before the other's update: the token is there
    assert first.allow(BANK, 2, 50.0) is not None


def test_a_zero_rate_refuses(table: RateTable) -> None:
    refused = SharedRateLimiter(table).allow(BANK, 0, 1.0)
    assert refused is not None and refused.value == "0"


Operation = tuple[int, int, int, float, bool]  # handle, system, rate, seconds later, give back


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), st.sampled_from([1, 2, 5, 40]),
                                     st.floats(0, 1.5), st.booleans()), max_size=60))
def test_shared_buckets_decide_exactly_as_one_process_would(operations: list[Operation]) -> None:
    """Whatever process each request comes through, the shared table admits what one in-process limiter
    given the same requests in the same order admits."""
    made = RateTable.create(slots=8)
    try:
        handles, model, now = [SharedRateLimiter(made) for _ in range(3)], RateLimiter(), 1000.0
        for handle, system, rate, later, give_back in operations:
            now += later
            key = (system, "production")
            expected = model.allow(key, rate, now)
            assert handles[handle].allow(key, rate, now) == expected
            if give_back and expected is None:
                model.give_back(key, rate)
                handles[(handle + 1) % 3].give_back(key, rate)
    finally:
        made.close()


def test_a_full_table_still_limits_in_the_process_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    limiter = SharedRateLimiter(RateTable.create(slots=2))
    assert limiter.allow((1, "production"), 1, 1.0) is None and limiter.allow((2, "production"), 1, 1.0) is None
    with caplog.at_level(logging.WARNING, logger="dancu.policy.rate"):
        assert limiter.allow((3, "production"), 1, 1.0) is None
        assert limiter.allow((3, "production"), 1, 1.0) is not None
    assert "rate table full" in caplog.text


def test_a_table_must_have_a_power_of_two_slots_and_a_file_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="power of two"):
        RateTable.create(slots=12)
    for content in (b"not a rate table at all, but long enough to map", b"", b"DANCURT1"):
        other = tmp_path / "other"
        other.write_bytes(content)
        with other.open("r+b") as file, pytest.raises(ValueError, match="not a rate table"):
            SharedRateLimiter(RateTable(file.fileno()))


def test_a_worker_uses_the_table_its_supervisor_made_one_limiter_for_all_its_runtimes(table: RateTable) -> None:
    assert isinstance(for_this_process(), RateLimiter)
    use_table(table)
    try:
        shared = for_this_process()
        assert isinstance(shared, SharedRateLimiter) and for_this_process() is shared
        assert shared.allow(BANK, 1, 3.0) is None and SharedRateLimiter(table).allow(BANK, 1, 3.0) is not None
    finally:
        use_table(None)
    assert isinstance(for_this_process(), RateLimiter)


def _spend(table: RateTable, rate: int, attempts: int, start: object, admitted: object) -> None:
    limiter = SharedRateLimiter(table)  # the table arrives as this process's own descriptor of the file
    start.wait()  # type: ignore[attr-defined]
    admitted.put(sum(limiter.allow(BANK, rate, 500.0) is None for _ in range(attempts)))  # type: ignore[attr-defined]


def test_processes_racing_for_one_bucket_admit_exactly_the_rate(table: RateTable) -> None:
    """Four processes ask at once, at one instant, twice as often as there are tokens: every token is spent
    once, none twice (an update lost between two processes would admit more)."""
    assert race(_spend, table, 20_000, 10_000) == 20_000
