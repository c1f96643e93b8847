"""Policy (chính sách chia sẻ): pure ``decide(policy, request) -> Decision``, deny by default.

A policy lists what one system may do; anything it does not list is refused — including the sector
sources (``sources``) a system may push enrichment data for.  Every decision is
explainable: a denial names the rule it broke and, where one is at fault, the field or value.
Quota and rate are counted elsewhere (they need storage); their denials use the same shape.

Environments (X-Road's separate test instance, in one deployment): a call made with a **test** credential is
judged by the system's *test* policy and may concern only residents of the sandbox (synthetic, loaded by
``dancu agencies sandbox load``); a call made with a **production** credential is judged by the production
policy and never sees the sandbox.  :func:`outside_sandbox` is that rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Environment(StrEnum):
    """Which world a call lives in — the kind of the credential it was made with (test | production)."""

    TEST = "test"
    PRODUCTION = "production"


class Service(StrEnum):
    VERIFY = "verify"
    RETRIEVE = "retrieve"
    BATCH_VERIFY = "batch_verify"
    ENRICHMENT_PUSH = "enrichment_push"


class Rule(StrEnum):
    NO_POLICY = "no_policy"
    SERVICE_NOT_ALLOWED = "service_not_allowed"
    FIELD_NOT_ALLOWED = "field_not_allowed"
    PURPOSE_MISSING = "purpose_missing"
    PURPOSE_NOT_ALLOWED = "purpose_not_allowed"
    LEGAL_BASIS_MISSING = "legal_basis_missing"
    LEGAL_BASIS_NOT_ALLOWED = "legal_basis_not_allowed"
    END_USER_REQUIRED = "end_user_required"
    DAILY_QUOTA_EXCEEDED = "daily_quota_exceeded"
    RATE_LIMITED = "rate_limited"
    SOURCE_NOT_ALLOWED = "source_not_allowed"


@dataclass(frozen=True)
class Policy:
    """What one system may do.  Empty sets grant nothing."""

    services: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    legal_bases: frozenset[str] = frozenset()
    daily_quota: int = 0
    rate_per_second: int = 0
    must_name_end_user: bool = False
    version: int = 0
    sources: frozenset[str] = frozenset()  # sector sources it may push for (service enrichment_push)
    environment: Environment = Environment.PRODUCTION


@dataclass(frozen=True)
class Request:
    """What a system asks: a service over some fields, for a declared purpose."""

    service: str
    fields: frozenset[str] = frozenset()
    purpose: str | None = None
    legal_basis: str | None = None
    end_user: str | None = None
    source: str | None = None  # the sector source pushed for (enrichment_push)


@dataclass(frozen=True)
class Denial:
    rule: Rule
    field: str | None = None
    value: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"rule": self.rule.value}
        if self.field is not None:
            out["field"] = self.field
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Decision:
    allowed: bool
    denials: tuple[Denial, ...] = ()
    fields: frozenset[str] = field(default_factory=frozenset)
    policy_version: int | None = None

    def explain(self) -> list[dict[str, str]]:
        return [d.as_dict() for d in self.denials]


def decide(policy: Policy | None, request: Request) -> Decision:
    """Allow only when every rule passes; otherwise deny, naming every rule that failed."""
    if policy is None:
        return Decision(False, (Denial(Rule.NO_POLICY),))
    denials = (*_service(policy, request), *_source(policy, request), *_purpose(policy, request),
               *_fields(policy, request), *_end_user(policy, request))
    if denials:
        return Decision(False, tuple(denials), policy_version=policy.version)
    return Decision(True, fields=request.fields, policy_version=policy.version)


def _service(policy: Policy, request: Request) -> Iterable[Denial]:
    if request.service not in policy.services:
        yield Denial(Rule.SERVICE_NOT_ALLOWED, value=request.service)


def _source(policy: Policy, request: Request) -> Iterable[Denial]:
    if request.source is not None and request.source not in policy.sources:
        yield Denial(Rule.SOURCE_NOT_ALLOWED, value=request.source)


def _purpose(policy: Policy, request: Request) -> Iterable[Denial]:
    if not request.purpose or not request.purpose.strip():
        yield Denial(Rule.PURPOSE_MISSING)
    elif request.purpose not in policy.purposes:
        yield Denial(Rule.PURPOSE_NOT_ALLOWED, value=request.purpose)
    if request.legal_basis is not None and request.legal_basis not in policy.legal_bases:
        yield Denial(Rule.LEGAL_BASIS_NOT_ALLOWED, value=request.legal_basis)
    elif request.legal_basis is None and policy.legal_bases:
        yield Denial(Rule.LEGAL_BASIS_MISSING)


def _fields(policy: Policy, request: Request) -> Iterable[Denial]:
    for name in sorted(request.fields - policy.fields):
        yield Denial(Rule.FIELD_NOT_ALLOWED, field=name)


def _end_user(policy: Policy, request: Request) -> Iterable[Denial]:
    if policy.must_name_end_user and not (request.end_user and request.end_user.strip()):
        yield Denial(Rule.END_USER_REQUIRED)


def outside_sandbox(environment: str, asked: Sequence[str | None], in_sandbox: Collection[str]) -> list[int]:
    """Positions of ``asked`` (personal ID numbers; ``None`` = a record naming none) a call of ``environment``
    may not touch: for a test call, every one that is not a sandbox resident's — a real resident, nobody, or
    no number at all (that record would be matched against the whole registry); for production, none (its
    reads leave the sandbox out instead).  Empty: the call stays in its environment."""
    if environment != Environment.TEST:
        return []
    return [i for i, pid in enumerate(asked) if pid is None or pid not in in_sandbox]
