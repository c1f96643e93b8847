"""The 10-step state machine, with no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.agencies.domain import SystemKind
from dancu.agencies.errors import StepInvalid, StepOutOfOrder
from dancu.agencies.onboarding import Onboarding, OnboardingState, Step, record

NOW = datetime(2026, 11, 29, tzinfo=UTC)
DATA: dict[int, dict[str, Any]] = {
    1: {"services": ["verify", "retrieve"], "fields": ["full_name", "sex"]},
    4: {"connection_model": "direct"},
    5: {"security_level": 3, "assessment": {"result": "passed", "approved_by": "C06"}},
    8: {"result": "passed"},
    9: {"policy": {"services": ["verify"], "fields": ["full_name"]}},
}


def step(number: int, decision: str | None = None, notes: str | None = None) -> Step:
    if number == 6 and decision is None:
        decision = "approve"
    return Step(number, "officer", NOW, decision=decision, notes=notes, data=DATA.get(number, {}))


def run(numbers: list[int], kind: SystemKind = SystemKind.BUSINESS) -> Onboarding:
    onboarding = Onboarding(kind)
    for number in numbers:
        onboarding = record(onboarding, step(number))
    return onboarding


def test_steps_one_to_ten_in_order_go_live() -> None:
    done = run(list(range(1, 11)))
    assert done.state is OnboardingState.LIVE and done.expected_step is None


@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=12))
def test_any_other_sequence_is_refused(numbers: list[int]) -> None:
    prefix_ok = numbers == list(range(1, len(numbers) + 1)) and len(numbers) <= 10
    if prefix_ok:
        assert run(numbers).expected_step == (len(numbers) + 1 if len(numbers) < 10 else None)
    else:
        with pytest.raises(StepOutOfOrder):
            run(numbers)


@given(st.integers(min_value=0, max_value=12))
def test_rejection_at_step_six_ends_the_request(next_number: int) -> None:
    onboarding = run([1, 2, 3, 4, 5])
    rejected = record(onboarding, step(6, "reject", "Thiếu căn cứ pháp lý"))
    assert rejected.state is OnboardingState.REJECTED and rejected.expected_step is None
    with pytest.raises(StepOutOfOrder) as raised:
        record(rejected, step(next_number))
    assert raised.value.extra["expected_step"] is None


def test_cross_step_rules() -> None:
    five = run([1, 2, 3, 4])
    low = Step(5, "o", NOW, data={"security_level": 2, "assessment": {"result": "passed"}})
    with pytest.raises(StepInvalid, match="level 3"):
        record(five, low)
    platform = run([1, 2, 3, 4], SystemKind.INTEGRATION_PLATFORM)
    unapproved = Step(5, "o", NOW, data={"security_level": 4, "assessment": {"result": "passed"}})
    with pytest.raises(StepInvalid) as raised:
        record(platform, unapproved)
    assert raised.value.extra["rule"] == "relay_approval_required"
    axis = Step(4, "o", NOW, data={"connection_model": "document_axis"})
    with pytest.raises(StepInvalid):
        record(run([1, 2, 3]), axis)
    assert record(run([1, 2, 3], SystemKind.ADMINISTRATIVE_PROCEDURE), axis).expected_step == 5
