"""Rules of connected systems that touch storage: onboarding steps, suspension, resumption, termination.

Never commits: the HTTP request or the CLI command does, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from dancu.agencies import credentials, focal_points, onboarding, repository
from dancu.agencies.domain import CredentialKind, SystemKind, SystemStatus, effective_status
from dancu.agencies.errors import (
    InvalidStatusChange,
    OnboardingNotFound,
    StepInvalid,
    StepOutOfOrder,
    SystemExists,
    SystemNotFound,
)
from dancu.agencies.identifiers import MemberId
from dancu.agencies.models import (
    InformationSystem,
    OnboardingRequest,
    OnboardingStep,
    Organisation,
    SystemStatusChange,
)
from dancu.agencies.onboarding import Document, Onboarding, OnboardingState, Step, StepNo
from dancu.agencies.schemas import STEP_DATA, OnboardingCreate, StepBody
from dancu.errors import ValidationFailed, field_error
from dancu.policy import service as policy
from dancu.policy.domain import Environment, Service
from dancu.policy.service import Grant
from dancu.sync import sources as sync_sources
from dancu.sync.push.settings import get_push_settings


@dataclass(frozen=True)
class Context:
    session: Session
    actor: str
    now: datetime


def get_system(session: Session, identifier: str, lock: bool = False) -> InformationSystem:
    finder = repository.locked_system if lock else repository.system_by_identifier
    system = finder(session, identifier)
    if system is None:
        raise SystemNotFound(identifier)
    return system


def _organisation(ctx: Context, body: OnboardingCreate) -> Organisation:
    o = body.organisation
    member = MemberId(o.instance, o.member_class, o.member_code)
    org = repository.organisation_by_member(ctx.session, member)
    if org is None:
        org = Organisation(instance=o.instance, member_class=o.member_class, member_code=o.member_code,
                           name=o.name, org_type=o.type.value)
        repository.add(ctx.session, org)
    return org


def _system_for_request(ctx: Context, org: Organisation, body: OnboardingCreate) -> InformationSystem:
    identifier = f"{org.instance}/{org.member_class}/{org.member_code}/{body.system.subsystem_code}"
    system = repository.locked_system(ctx.session, identifier)
    if system is not None and system.status not in (SystemStatus.REJECTED, SystemStatus.TERMINATED):
        raise SystemExists(identifier)
    if system is None:
        system = InformationSystem(org_id=org.org_id, identifier=identifier, subsystem_code=body.system.subsystem_code,
                                   readiness={}, status=SystemStatus.ONBOARDING.value, name="", kind="")
        repository.add(ctx.session, system)
    system.name, system.kind = body.system.name, body.system.kind.value
    _set_status(ctx, system, SystemStatus.ONBOARDING, "request letter (step 1)")
    return system


def start(ctx: Context, body: OnboardingCreate) -> OnboardingRequest:
    """Step 1: the request letter.  Registers the organisation and system when new; checks the letter before
    anything is written."""
    data = body.model_dump(mode="json", exclude={"documents", "notes"})
    letter = _step(ctx, 1, StepBody(documents=body.documents, notes=body.notes), data)
    before = Onboarding(body.system.kind)
    after = onboarding.record(before, letter)
    org = _organisation(ctx, body)
    system = _system_for_request(ctx, org, body)
    focal_points.appoint(ctx, org, body.proposed_focal_point, published=False,
                         reason=f"request letter (step 1) of {system.identifier}")
    request = OnboardingRequest(system_id=system.system_id, state=OnboardingState.IN_PROGRESS.value, next_step=1)
    repository.add(ctx.session, request)
    _store(ctx, request, before, letter, after)
    return request


def record_step(ctx: Context, request_id: int, number: int, body: StepBody) -> OnboardingRequest:
    """Steps 2–10, each once and in order."""
    request = repository.locked_request(ctx.session, request_id)
    if request is None:
        raise OnboardingNotFound(request_id)
    system = ctx.session.get(InformationSystem, request.system_id)
    assert system is not None
    current = load(ctx.session, request, SystemKind(system.kind))
    if number != current.expected_step:
        raise StepOutOfOrder(number, current.expected_step)
    data = _step_data(number, body.data)
    recorded = RECORDED.get(number, _as_given)(ctx, system, current, data)
    step = _step(ctx, number, body, recorded)
    after = onboarding.record(current, step)
    EFFECTS.get(number, _nothing)(ctx, system, data, step)
    _store(ctx, request, current, step, after)
    return request


def load(session: Session, request: OnboardingRequest, kind: SystemKind) -> Onboarding:
    steps = tuple(
        Step(s.step_no, s.actor, s.recorded_at, tuple(Document(**d) for d in s.documents), s.decision, s.notes,
             s.data)
        for s in repository.steps_of(session, request.request_id)
    )
    return Onboarding(kind, steps)


def _as_given(ctx: Context, system: InformationSystem, current: Onboarding, data: BaseModel) -> dict[str, Any]:
    return data.model_dump(mode="json")


def _with_test_policy(ctx: Context, system: InformationSystem, current: Onboarding,
                      data: BaseModel) -> dict[str, Any]:
    """Step 7 records the test policy it activates (the letter's scope, step 7's choices), as granted."""
    recorded = data.model_dump(mode="json")
    known = sync_sources.all_sources(get_push_settings().sync_sources)
    recorded["test_policy"] = onboarding.sandbox_policy(current.step(StepNo.REQUEST_LETTER).data,
                                                     recorded.get("test_policy"), known)
    return recorded


def _test_run_from_log(ctx: Context, system: InformationSystem, current: Onboarding,
                       data: BaseModel) -> dict[str, Any]:
    """Step 8 records what the exchange log holds, not what anyone declares: the system's calls answered
    ``ok`` since step 7, per service.  Before step 9 a system has no production credential, and a platform
    cannot relay a production call for a system not live, so each of them was a test call."""
    since = current.step(StepNo.TEST_CREDENTIALS).at
    found = repository.successful_calls(ctx.session, system.identifier, since, [s.value for s in Service])
    return {
        "since": since.isoformat(), "checked_at": ctx.now.isoformat(),
        "required": onboarding.required_test_services(onboarding.sandbox_scope(current)),
        "calls": {c.service: c.calls for c in found}, "total": sum(c.calls for c in found),
        "first_seq": min((c.first_seq for c in found), default=None),
        "last_seq": max((c.last_seq for c in found), default=None),
        "relaying_platforms": sorted({p for c in found for p in c.relaying_platforms}),
    }


RECORDED: dict[int, Callable[[Context, InformationSystem, Onboarding, BaseModel], dict[str, Any]]] = {
    StepNo.TEST_CREDENTIALS: _with_test_policy, StepNo.TEST_CONNECTION: _test_run_from_log,
}


def _step_data(number: int, data: dict[str, Any]) -> BaseModel:
    try:
        return STEP_DATA[number].model_validate(data)
    except ValidationError as error:
        raise ValidationFailed([
            field_error(".".join(["data", *map(str, e["loc"])]), e["type"], f"Bước {number}: {e['msg']}",
                        f"Step {number}: {e['msg']}")
            for e in error.errors()
        ]) from None


def _step(ctx: Context, number: int, body: StepBody, data: dict[str, Any]) -> Step:
    documents = tuple(Document(d.name, d.sha256) for d in body.documents)
    return Step(number, ctx.actor, ctx.now, documents, body.decision, body.notes, data)


def _store(ctx: Context, request: OnboardingRequest, before: Onboarding, step: Step,
           after: Onboarding | None = None) -> None:
    after = after or onboarding.record(before, step)
    repository.add(ctx.session, OnboardingStep(
        request_id=request.request_id, step_no=step.number, actor=step.actor, recorded_at=step.at,
        documents=[{"name": d.name, "sha256": d.sha256} for d in step.documents], decision=step.decision,
        notes=step.notes, data=dict(step.data),
    ))
    request.state, request.next_step, request.updated_at = after.state.value, after.expected_step, ctx.now


def _nothing(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    return None


def _publish_focal_points(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    """Step 2: the focal points named here, or (none named) the organisation's proposed ones, go public."""
    reason = f"onboarding step 2 of {system.identifier}"
    org = ctx.session.get(Organisation, system.org_id, with_for_update=True)  # as focal-point changes do
    assert org is not None
    if not data.focal_points:
        for point in repository.focal_points_of(ctx.session, system.org_id):
            focal_points.publish(ctx, point, reason)
    for person in data.focal_points:
        focal_points.appoint_or_publish(ctx, org, person, reason)
    if not repository.focal_points_of(ctx.session, system.org_id, published_only=True):
        raise StepInvalid(step.number, "focal_point_missing",
                          "Chưa có cán bộ đầu mối nào để công bố: nêu cán bộ đầu mối (focal_points) ở bước này.",
                          "No focal point to publish (the proposed one was withdrawn): name one here (focal_points).")


def _declare_readiness(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    system.readiness = data.model_dump(mode="json")


def _design(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    if data.via_platform:
        platform = repository.system_by_identifier(ctx.session, data.via_platform)
        approved = platform is not None and platform.kind == SystemKind.INTEGRATION_PLATFORM \
            and platform.status == SystemStatus.ACTIVE
        if not approved:
            raise StepInvalid(step.number, "platform_not_approved",
                              f"{data.via_platform} không phải nền tảng trung gian đã được phê duyệt.",
                              f"{data.via_platform} is not an approved, live relaying platform.")
    system.connection_model, system.via_platform = data.connection_model.value, data.via_platform


def _decide(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    if step.decision == "reject":
        _set_status(ctx, system, SystemStatus.REJECTED, step.notes)


def _test_credentials(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    """Step 7: the test key, and the test policy — in force for test credentials only, on the sandbox only."""
    credentials.register(ctx.session, system, CredentialKind.TEST, data, ctx.actor)
    g = step.data["test_policy"]
    grant = Grant(frozenset(g["services"]), frozenset(g["fields"]), frozenset(g["purposes"]),
                  frozenset(g["legal_bases"]), g["daily_quota"], g["rate_per_second"], g["must_name_end_user"],
                  frozenset(g["sources"]))
    policy.activate(ctx.session, system.system_id, grant, ctx.actor, ctx.now, Environment.TEST)


def _production(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    g = data.policy
    _check_sources_known(step, g.sources)
    credentials.register(ctx.session, system, CredentialKind.PRODUCTION, data.credential, ctx.actor)
    grant = Grant(frozenset(g.services), frozenset(g.fields), frozenset(g.purposes), frozenset(g.legal_bases),
                  g.daily_quota, g.rate_per_second, g.must_name_end_user, frozenset(g.sources))
    policy.activate(ctx.session, system.system_id, grant, ctx.actor, ctx.now, Environment.PRODUCTION)


def _check_sources_known(step: Step, codes: list[str]) -> None:
    """A granted source must be one this deployment synchronises (built in, or declared in DANCU_SYNC_SOURCES)."""
    unknown = sorted(set(codes) - set(sync_sources.all_sources(get_push_settings().sync_sources)))
    if unknown:
        raise StepInvalid(step.number, "source_unknown", f"Không có nguồn dữ liệu chuyên ngành: {', '.join(unknown)}.",
                          f"No such sector source: {', '.join(unknown)}.", unknown=unknown)


def _go_live(ctx: Context, system: InformationSystem, data: Any, step: Step) -> None:
    _set_status(ctx, system, SystemStatus.ACTIVE, "go-live (step 10)")


EFFECTS: dict[int, Callable[[Context, InformationSystem, Any, Step], None]] = {
    StepNo.FOCAL_POINT: _publish_focal_points, StepNo.DATA_READINESS: _declare_readiness,
    StepNo.TECHNICAL_DESIGN: _design, StepNo.DECISION: _decide, StepNo.TEST_CREDENTIALS: _test_credentials,
    StepNo.PRODUCTION: _production, StepNo.GO_LIVE: _go_live,
}


def _set_status(ctx: Context, system: InformationSystem, status: SystemStatus, reason: str | None,
                until: datetime | None = None) -> None:
    system.status, system.status_reason, system.suspended_until = status.value, reason, until
    system.status_changed_at = ctx.now
    repository.add(ctx.session, SystemStatusChange(system_id=system.system_id, status=status.value,
                                                   actor=ctx.actor, reason=reason, until=until))


def suspend(ctx: Context, identifier: str, reason: str, until: datetime | None) -> InformationSystem:
    """Tạm ngừng: refused from the very next request; lifts itself after ``until`` when given."""
    system = get_system(ctx.session, identifier, lock=True)
    if effective_status(system.status, system.suspended_until, ctx.now) is not SystemStatus.ACTIVE:
        raise InvalidStatusChange(identifier, system.status, "suspend")
    if until is not None and until <= ctx.now:
        raise ValidationFailed([field_error("until", "in_past", "Thời điểm kết thúc phải ở tương lai.",
                                            "The end of the suspension must be in the future.")])
    _set_status(ctx, system, SystemStatus.SUSPENDED, reason, until)
    return system


def resume(ctx: Context, identifier: str, reason: str | None) -> InformationSystem:
    system = get_system(ctx.session, identifier, lock=True)
    if system.status != SystemStatus.SUSPENDED:
        raise InvalidStatusChange(identifier, system.status, "resume")
    _set_status(ctx, system, SystemStatus.ACTIVE, reason)
    return system


def terminate(ctx: Context, identifier: str, reason: str | None) -> InformationSystem:
    """Chấm dứt: credentials revoked, policy ended, any open onboarding closed; every record kept."""
    system = get_system(ctx.session, identifier, lock=True)
    if system.status in (SystemStatus.TERMINATED, SystemStatus.REJECTED):
        raise InvalidStatusChange(identifier, system.status, "terminate")
    repository.revoke_credentials(ctx.session, system.system_id, ctx.actor, ctx.now)
    policy.end(ctx.session, system.system_id, ctx.now)
    for request in repository.requests_of(ctx.session, system.system_id):
        if request.state == OnboardingState.IN_PROGRESS:
            request.state, request.next_step, request.updated_at = "terminated", None, ctx.now
    _set_status(ctx, system, SystemStatus.TERMINATED, reason)
    return system


def resume_due(ctx: Context) -> list[str]:
    """Record the end of suspensions whose end date has passed (they already stopped applying)."""
    resumed = []
    for system in repository.suspended_until_before(ctx.session, ctx.now):
        _set_status(ctx, system, SystemStatus.ACTIVE, "suspension ended")
        resumed.append(system.identifier)
    return resumed
