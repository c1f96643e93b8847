"""Policy rules that need storage: versions in force, activation and end, daily quota.

The exchange calls :func:`policy_for` and :func:`~dancu.policy.domain.decide` before answering, and
:func:`consume_quota` for every request it lets through (``amount`` = records in a batch).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dancu.policy import repository
from dancu.policy.domain import Denial, Environment, Policy, Rule
from dancu.policy.models import PolicyVersion

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Grant:
    """What the database manager grants a system: production at step 9 of onboarding (or a later policy
    change), test at step 7 (the scope of the request letter, for test credentials on the sandbox)."""

    services: frozenset[str]
    fields: frozenset[str]
    purposes: frozenset[str]
    legal_bases: frozenset[str] = frozenset()
    daily_quota: int = 0
    rate_per_second: int = 0
    must_name_end_user: bool = False
    sources: frozenset[str] = frozenset()  # sector sources it may push for (enrichment_push)


def to_policy(row: PolicyVersion) -> Policy:
    return Policy(
        services=frozenset(row.services), fields=frozenset(row.fields), purposes=frozenset(row.purposes),
        legal_bases=frozenset(row.legal_bases), daily_quota=row.daily_quota, rate_per_second=row.rate_per_second,
        must_name_end_user=row.must_name_end_user, version=row.version, sources=frozenset(row.sources),
        environment=Environment(row.environment),
    )


def policy_for(session: Session, system_id: int, at: datetime,
               environment: Environment = Environment.PRODUCTION) -> Policy | None:
    """The policy of ``environment`` in force for a system at ``at``; ``None`` (deny everything) when none."""
    row = repository.in_force(session, system_id, at, environment.value)
    return to_policy(row) if row else None


def activate(session: Session, system_id: int, grant: Grant, actor: str, at: datetime,
             environment: Environment = Environment.PRODUCTION) -> PolicyVersion:
    """End the version of ``environment`` in force and start a new one from ``at`` (the other environment's
    version is untouched)."""
    repository.end_open_version(session, system_id, at, environment.value)
    existing = repository.versions(session, system_id, environment.value)
    row = PolicyVersion(
        system_id=system_id, environment=environment.value, version=(existing[-1].version + 1) if existing else 1,
        services=sorted(grant.services), fields=sorted(grant.fields), purposes=sorted(grant.purposes),
        legal_bases=sorted(grant.legal_bases), daily_quota=grant.daily_quota,
        rate_per_second=grant.rate_per_second, must_name_end_user=grant.must_name_end_user,
        sources=sorted(grant.sources), valid_from=at, valid_to=None, created_by=actor,
    )
    repository.add_version(session, row)
    return row


def end(session: Session, system_id: int, at: datetime) -> int:
    """End the policies in force, test and production (termination); the versions stay on record."""
    return repository.end_open_version(session, system_id, at)


def quota_day(at: datetime) -> date:
    return at.astimezone(VIETNAM).date()


def consume_quota(session: Session, system_id: int, policy: Policy, at: datetime, amount: int = 1) -> Denial | None:
    """Count ``amount`` records against today's quota of the policy's environment; a ``daily_quota_exceeded``
    denial when over it."""
    total = repository.consume(session, system_id, quota_day(at), amount, policy.daily_quota,
                               policy.environment.value)
    return Denial(Rule.DAILY_QUOTA_EXCEEDED, value=str(policy.daily_quota)) if total is None else None


def history(session: Session, system_id: int) -> Iterable[PolicyVersion]:
    return repository.versions(session, system_id)
