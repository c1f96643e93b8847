"""Policy versions and quota counters on the real database (rolled back per test)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from dancu.agencies.models import InformationSystem, Organisation
from dancu.policy import service
from dancu.policy.domain import Environment, Request, Rule, decide
from dancu.policy.rate import RateLimiter
from dancu.policy.service import Grant

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def a_system(session: Session) -> int:
    org = Organisation(instance="VN", member_class="COM", member_code=uuid.uuid4().hex[:8], name="Bank",
                       org_type="credit_institution")
    session.add(org)
    session.flush()
    system = InformationSystem(org_id=org.org_id, identifier=f"VN/COM/{org.member_code}/EKYC", subsystem_code="EKYC",
                               name="eKYC", kind="business", status="active", readiness={})
    session.add(system)
    session.flush()
    return system.system_id


GRANT = Grant(frozenset({"verify"}), frozenset({"full_name"}), frozenset({"kyc"}), daily_quota=3, rate_per_second=5)


def test_versions_in_force_and_ended(session: Session) -> None:
    system_id = a_system(session)
    assert service.policy_for(session, system_id, NOW) is None
    service.activate(session, system_id, GRANT, "officer", NOW)
    wider = Grant(frozenset({"verify", "retrieve"}), frozenset({"full_name", "sex"}), frozenset({"kyc"}), daily_quota=9)
    service.activate(session, system_id, wider, "officer", NOW + timedelta(days=1))
    before = service.policy_for(session, system_id, NOW + timedelta(hours=1))
    after = service.policy_for(session, system_id, NOW + timedelta(days=2))
    assert before is not None and before.version == 1 and before.services == {"verify"}
    assert after is not None and after.version == 2 and "retrieve" in after.services
    assert decide(after, Request("retrieve", frozenset({"sex"}), "kyc")).allowed
    service.end(session, system_id, NOW + timedelta(days=3))
    assert service.policy_for(session, system_id, NOW + timedelta(days=4)) is None
    assert [v.version for v in service.history(session, system_id)] == [1, 2]


def test_daily_quota_is_counted_by_upsert(session: Session) -> None:
    system_id = a_system(session)
    policy = service.to_policy(service.activate(session, system_id, GRANT, "officer", NOW))
    assert service.consume_quota(session, system_id, policy, NOW, 2) is None
    assert service.consume_quota(session, system_id, policy, NOW) is None
    denial = service.consume_quota(session, system_id, policy, NOW)
    assert denial is not None and denial.as_dict() == {"rule": "daily_quota_exceeded", "value": "3"}
    assert service.consume_quota(session, system_id, policy, NOW, 5) is not None
    tomorrow = NOW + timedelta(days=1)
    assert service.consume_quota(session, system_id, policy, tomorrow) is None


def test_quota_day_is_the_vietnamese_calendar_day() -> None:
    late_utc = datetime(2026, 11, 29, 18, 30, tzinfo=UTC)  # 01:30 on 30 Nov in Hà Nội
    assert service.quota_day(late_utc).day == 30


def test_rate_limiter_token_bucket() -> None:
    limiter = RateLimiter()
    assert all(limiter.allow(1, 2, 100.0) is None for _ in range(2))
    refused = limiter.allow(1, 2, 100.0)
    assert refused is not None and refused.rule is Rule.RATE_LIMITED
    assert limiter.allow(1, 2, 100.5) is None


def test_test_and_production_policies_live_side_by_side(session: Session) -> None:
    system_id = a_system(session)
    test = Grant(frozenset({"verify", "retrieve"}), frozenset({"full_name", "sex"}), frozenset({"kyc"}),
                 daily_quota=2, rate_per_second=5)
    service.activate(session, system_id, test, "officer", NOW, Environment.TEST)  # step 7
    assert service.policy_for(session, system_id, NOW + timedelta(hours=1)) is None  # no production one yet
    service.activate(session, system_id, GRANT, "officer", NOW + timedelta(hours=2))  # step 9
    service.activate(session, system_id, GRANT, "officer", NOW + timedelta(hours=3))  # a production change
    later = NOW + timedelta(hours=4)
    in_test = service.policy_for(session, system_id, later, Environment.TEST)
    in_production = service.policy_for(session, system_id, later)
    assert in_test is not None and in_test.environment is Environment.TEST and in_test.version == 1  # untouched
    assert in_production is not None and in_production.environment is Environment.PRODUCTION
    assert in_production.version == 2 and in_production.services == {"verify"}
    assert [(v.environment, v.version) for v in service.history(session, system_id)] == [
        ("production", 1), ("production", 2), ("test", 1)]
    assert service.consume_quota(session, system_id, in_test, later, 2) is None
    assert service.consume_quota(session, system_id, in_test, later) is not None  # the test quota is spent
    assert service.consume_quota(session, system_id, in_production, later, 3) is None  # the production one is not
    service.end(session, system_id, NOW + timedelta(days=1))  # termination ends both
    ended = NOW + timedelta(days=2)
    assert service.policy_for(session, system_id, ended) is None
    assert service.policy_for(session, system_id, ended, Environment.TEST) is None


def test_rate_buckets_are_per_system_and_environment() -> None:
    limiter = RateLimiter()
    assert limiter.allow((1, "test"), 1, 100.0) is None
    assert limiter.allow((1, "test"), 1, 100.0) is not None
    assert limiter.allow((1, "production"), 1, 100.0) is None  # test calls never spend the production rate
