"""decide(): deny by default, never beyond the policy, always explainable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dancu.policy.domain import Decision, Environment, Policy, Request, Rule, Service, decide, outside_sandbox

FIELDS = ["full_name", "date_of_birth", "sex", "religion_code", "ethnic_code", "permanent_address", "phone"]
PURPOSES = ["kyc", "subscriber_check", "public_service", "inspection"]
SERVICES = [s.value for s in Service] + ["delete_everything"]

field_sets = st.frozensets(st.sampled_from(FIELDS))
policies = st.builds(
    Policy,
    services=st.frozensets(st.sampled_from(SERVICES[:-1])),
    fields=field_sets,
    purposes=st.frozensets(st.sampled_from(PURPOSES)),
    legal_bases=st.frozensets(st.sampled_from(["ND13", "TT46"])),
    must_name_end_user=st.booleans(),
)
requests = st.builds(
    Request,
    service=st.sampled_from(SERVICES),
    fields=field_sets,
    purpose=st.one_of(st.none(), st.just(""), st.just("  "), st.sampled_from(PURPOSES)),
    legal_basis=st.one_of(st.none(), st.sampled_from(["ND13", "TT46", "other"])),
    end_user=st.one_of(st.none(), st.just("VN001099000123")),
)


@given(policies, requests)
def test_never_beyond_the_policy(policy: Policy, request: Request) -> None:
    decision = decide(policy, request)
    if decision.allowed:
        assert decision.fields <= policy.fields
        assert request.fields <= policy.fields
        assert request.service in policy.services
        assert request.purpose and request.purpose.strip() and request.purpose in policy.purposes
        assert not decision.denials
    else:
        assert decision.denials and not decision.fields


@given(requests)
def test_an_empty_policy_denies_everything(request: Request) -> None:
    assert not decide(Policy(), request).allowed
    assert decide(None, request).explain() == [{"rule": "no_policy"}]


@given(policies, requests)
def test_no_purpose_no_answer(policy: Policy, request: Request) -> None:
    no_purpose = Request(request.service, request.fields, None, request.legal_basis, request.end_user)
    decision = decide(policy, no_purpose)
    assert not decision.allowed and Rule.PURPOSE_MISSING in {d.rule for d in decision.denials}


def test_a_denial_names_the_rule_and_the_field() -> None:
    policy = Policy(services=frozenset({"retrieve"}), fields=frozenset({"full_name"}),
                    purposes=frozenset({"kyc"}), version=3)
    decision = decide(policy, Request("retrieve", frozenset({"full_name", "religion"}), "kyc"))
    assert decision == Decision(False, decision.denials, policy_version=3)
    assert decision.explain() == [{"rule": "field_not_allowed", "field": "religion"}]
    assert decide(policy, Request("verify", frozenset(), "kyc")).explain() == [
        {"rule": "service_not_allowed", "value": "verify"}]
    allowed = decide(policy, Request("retrieve", frozenset({"full_name"}), "kyc"))
    assert allowed.allowed and allowed.fields == {"full_name"} and allowed.policy_version == 3


def test_end_user_and_legal_basis_rules() -> None:
    policy = Policy(services=frozenset({"verify"}), purposes=frozenset({"kyc"}), legal_bases=frozenset({"ND13"}),
                    must_name_end_user=True)
    rules = {d["rule"] for d in decide(policy, Request("verify", purpose="kyc")).explain()}
    assert rules == {"legal_basis_missing", "end_user_required"}
    assert decide(policy, Request("verify", purpose="kyc", legal_basis="ND13", end_user="u1")).allowed
    other = decide(policy, Request("verify", purpose="kyc", legal_basis="X", end_user="u1"))
    assert other.explain() == [{"rule": "legal_basis_not_allowed", "value": "X"}]


def test_a_push_must_be_for_a_source_the_policy_lists() -> None:
    policy = Policy(services=frozenset({"enrichment_push"}), purposes=frozenset({"sync"}), sources=frozenset({"bhyt"}))
    assert decide(policy, Request("enrichment_push", purpose="sync", source="bhyt")).allowed
    assert decide(policy, Request("enrichment_push", purpose="sync", source="thue")).explain() == [
        {"rule": "source_not_allowed", "value": "thue"}]
    no_push = Policy(services=frozenset({"verify"}), purposes=frozenset({"sync"}))
    assert decide(no_push, Request("enrichment_push", purpose="sync", source="bhyt")).explain() == [
        {"rule": "service_not_allowed", "value": "enrichment_push"}, {"rule": "source_not_allowed", "value": "bhyt"}]


@given(policies, requests, st.sampled_from(["bhyt", "thue", "bhxh"]), st.frozensets(st.sampled_from(["bhyt", "thue"])))
def test_never_for_a_source_beyond_the_policy(policy: Policy, request: Request, source: str,
                                              owned: frozenset[str]) -> None:
    pushing = Request(request.service, request.fields, request.purpose, request.legal_basis, request.end_user, source)
    decision = decide(Policy(**{**policy.__dict__, "sources": owned}), pushing)
    if decision.allowed:
        assert source in owned
    elif source not in owned:
        assert {"rule": "source_not_allowed", "value": source} in decision.explain()


ids = st.lists(st.one_of(st.none(), st.sampled_from(["001090000001", "001090000002", "079085000111", "12"])),
               max_size=8)


@given(ids, st.frozensets(st.sampled_from(["001090000001", "001090000002"])))
def test_test_calls_stay_in_the_sandbox_production_ones_are_not_confined(asked: list[str | None],
                                                                         sandbox: frozenset[str]) -> None:
    outside = outside_sandbox(Environment.TEST, asked, sandbox)
    assert outside == [i for i, pid in enumerate(asked) if pid not in sandbox]  # None (no number) included
    assert outside_sandbox(Environment.PRODUCTION, asked, sandbox) == []  # its reads leave the sandbox out
