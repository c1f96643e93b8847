"""The 10-step state machine, with no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.agencies.domain import SystemKind
from dancu.agencies.errors import StepInvalid, StepOutOfOrder
from dancu.agencies.onboarding import (
    DOCUMENTED_STEPS,
    Document,
    Onboarding,
    OnboardingState,
    Step,
    record,
    required_test_services,
    sandbox_policy,
)

NOW = datetime(2026, 11, 29, tzinfo=UTC)
LETTER = {"services": ["verify", "retrieve"], "fields": ["full_name", "sex"], "purposes": ["kyc"]}
DATA: dict[int, dict[str, Any]] = {
    1: LETTER,
    4: {"connection_model": "direct"},
    5: {"security_level": 3, "assessment": {"result": "passed", "approved_by": "C06"}},
    7: {"test_policy": sandbox_policy(LETTER)},
    8: {"calls": {"verify": 2, "retrieve": 1}},
    9: {"policy": {"services": ["verify"], "fields": ["full_name"], "purposes": ["kyc"]}},
}


DOCUMENT = Document("van-ban.pdf", "ab" * 32)


def step(number: int, decision: str | None = None, notes: str | None = None,
         documents: tuple[Document, ...] | None = None) -> Step:
    if number == 6 and decision is None:
        decision = "approve"
    if documents is None:
        documents = (DOCUMENT,) if number in DOCUMENTED_STEPS else ()
    return Step(number, "officer", NOW, documents, decision=decision, notes=notes, data=DATA.get(number, {}))


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
    low = Step(5, "o", NOW, (DOCUMENT,), data={"security_level": 2, "assessment": {"result": "passed"}})
    with pytest.raises(StepInvalid, match="level 3"):
        record(five, low)
    platform = run([1, 2, 3, 4], SystemKind.INTEGRATION_PLATFORM)
    unapproved = Step(5, "o", NOW, (DOCUMENT,), data={"security_level": 4, "assessment": {"result": "passed"}})
    with pytest.raises(StepInvalid) as raised:
        record(platform, unapproved)
    assert raised.value.extra["rule"] == "relay_approval_required"
    axis = Step(4, "o", NOW, data={"connection_model": "document_axis"})
    with pytest.raises(StepInvalid):
        record(run([1, 2, 3]), axis)
    assert record(run([1, 2, 3], SystemKind.ADMINISTRATIVE_PROCEDURE), axis).expected_step == 5


def test_the_test_policy_is_the_letters_scope_with_small_limits() -> None:
    letter = {"services": ["verify", "enrichment_push"], "fields": ["full_name"], "sources": ["bhyt", "nope"],
              "purposes": ["kyc", "kyc"], "legal_bases": ["nd13"]}
    policy = sandbox_policy(letter, None, known_sources={"bhyt", "thue"})
    assert policy == {"services": ["enrichment_push", "verify"], "fields": ["full_name"], "sources": ["bhyt"],
                      "purposes": ["kyc"], "legal_bases": ["nd13"], "daily_quota": 1_000, "rate_per_second": 10,
                      "must_name_end_user": False}
    chosen = sandbox_policy(letter, {"daily_quota": 50, "purposes": None, "must_name_end_user": True})
    assert chosen["daily_quota"] == 50 and chosen["purposes"] == ["kyc"] and chosen["must_name_end_user"]
    assert required_test_services(policy) == ["enrichment_push", "verify"]
    assert required_test_services({**policy, "sources": []}) == ["verify"]  # nothing could be pushed


def test_step_seven_needs_a_purpose_within_the_letter() -> None:
    six = run([1, 2, 3, 4, 5, 6])
    with pytest.raises(StepInvalid) as raised:
        record(six, Step(7, "o", NOW, data={"test_policy": sandbox_policy({**LETTER, "purposes": []})}))
    assert raised.value.extra["rule"] == "test_purposes_missing"
    beyond = sandbox_policy(LETTER, {"purposes": ["kyc", "marketing"]})
    with pytest.raises(StepInvalid) as raised:
        record(six, Step(7, "o", NOW, data={"test_policy": beyond}))
    assert raised.value.extra["rule"] == "purposes_beyond_request" and raised.value.extra["beyond"] == ["marketing"]
    assert record(six, step(7)).expected_step == 8


@given(st.dictionaries(st.sampled_from(["verify", "retrieve", "batch_verify", "sandbox_residents"]),
                       st.integers(min_value=0, max_value=3)))
def test_step_eight_passes_only_with_a_successful_test_call_per_requested_service(calls: dict[str, int]) -> None:
    seven = run([1, 2, 3, 4, 5, 6, 7])
    evidence = Step(8, "o", NOW, data={"calls": calls})
    if calls.get("verify", 0) >= 1 and calls.get("retrieve", 0) >= 1:
        assert record(seven, evidence).expected_step == 9
        return
    with pytest.raises(StepInvalid) as raised:
        record(seven, evidence)
    extra = raised.value.extra
    assert extra["rule"] == "test_calls_missing" and extra["required"] == ["retrieve", "verify"]
    assert extra["missing"] == [s for s in ("retrieve", "verify") if calls.get(s, 0) < 1]


def test_step_nine_grants_no_purpose_beyond_the_letter() -> None:
    eight = run([1, 2, 3, 4, 5, 6, 7, 8])
    wider = Step(9, "o", NOW, data={"policy": {"services": ["verify"], "purposes": ["kyc", "ads"]}})
    with pytest.raises(StepInvalid) as raised:
        record(eight, wider)
    assert raised.value.extra["rule"] == "purposes_beyond_request"
    old_letter = Onboarding(SystemKind.BUSINESS, tuple(
        Step(s.number, s.actor, s.at, data={**s.data, "purposes": []}) if s.number == 1 else s for s in eight.steps))
    assert record(old_letter, wider).expected_step == 10  # a letter naming no purpose codes: not checked


documents = st.lists(st.builds(Document, st.text(min_size=1, max_size=20), st.text("0123456789abcdef", min_size=64,
                                                                                   max_size=64)), max_size=3)


@given(st.sampled_from(sorted(DOCUMENTED_STEPS)), documents, st.sampled_from(list(SystemKind)),
       st.sampled_from(["approve", "reject"]))
def test_letter_security_and_decision_steps_need_their_document(number: int, given_documents: list[Document],
                                                                 kind: SystemKind, decision: str) -> None:
    """Steps 1, 5 and 6 pass with at least one document and are refused, by their own rule, with none — whatever
    the system and the decision; nothing else about the step is wrong."""
    before = run(list(range(1, number)), kind)
    attempt = step(number, decision if number == 6 else None, "Lý do" if number == 6 else None,
                   tuple(given_documents))
    if given_documents:
        assert record(before, attempt).steps[-1].documents == tuple(given_documents)
        return
    with pytest.raises(StepInvalid) as raised:
        record(before, attempt)
    assert raised.value.extra == {"step": number, "rule": DOCUMENTED_STEPS[number]}
    assert raised.value.detail_vi and raised.value.detail_en
    assert len(before.steps) == number - 1  # the state machine is pure: the refused step is not there


def test_a_relaying_platform_is_told_it_needs_its_approved_assessment_document() -> None:
    platform = run([1, 2, 3, 4], SystemKind.INTEGRATION_PLATFORM)
    with pytest.raises(StepInvalid) as raised:
        record(platform, step(5, documents=()))
    assert raised.value.extra["rule"] == "security_document_missing"
    assert "approved security assessment" in raised.value.detail_en and "phê duyệt" in raised.value.detail_vi


def test_steps_without_a_document_rule_still_take_none() -> None:
    assert run(list(range(1, 11))).steps[1].documents == ()  # step 2, like 3, 4, 7–10: documents optional
