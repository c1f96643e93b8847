"""Read models: onboarding requests, systems, organisations and their focal points, and the public directory
(danh bạ kết nối)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dancu.agencies import repository
from dancu.agencies.domain import STATUS_NAMES_VI, FocalPointChangeKind, OrganisationType, effective_status
from dancu.agencies.errors import OnboardingNotFound
from dancu.agencies.focal_points import member_of
from dancu.agencies.models import FocalPoint, InformationSystem, OnboardingRequest, Organisation
from dancu.agencies.onboarding import STEP_NAMES_VI
from dancu.agencies.schemas import (
    CredentialView,
    FocalPointChangeView,
    FocalPointView,
    OnboardingView,
    OrganisationSystemView,
    OrganisationView,
    StatusChangeView,
    StepView,
    SystemView,
)


def onboarding_view(session: Session, request_id: int) -> OnboardingView:
    request = session.get(OnboardingRequest, request_id)
    if request is None:
        raise OnboardingNotFound(request_id)
    system = session.get(InformationSystem, request.system_id)
    assert system is not None
    steps = [
        StepView(step=s.step_no, name_vi=STEP_NAMES_VI[s.step_no], actor=s.actor, recorded_at=s.recorded_at,
                 documents=s.documents, decision=s.decision, notes=s.notes, data=s.data)
        for s in repository.steps_of(session, request_id)
    ]
    next_name = STEP_NAMES_VI.get(request.next_step) if request.next_step else None
    return OnboardingView(request_id=request_id, system=system.identifier, state=request.state,
                          next_step=request.next_step, next_step_name_vi=next_name, steps=steps)


def system_view(session: Session, system: InformationSystem, now: datetime) -> SystemView:
    org = session.get(Organisation, system.org_id)
    assert org is not None
    creds = [CredentialView(kid=c.kid, kind=c.kind, method=c.method, created_at=c.created_at,
                            created_by=c.created_by, revoked_at=c.revoked_at)
             for c in repository.credentials_of(session, system.system_id, live_only=False)]
    status = effective_status(system.status, system.suspended_until, now)
    return SystemView(
        identifier=system.identifier, name=system.name, kind=system.kind, organisation=org.name,
        organisation_type=org.org_type, status=status.value, status_reason=system.status_reason,
        suspended_until=system.suspended_until if status == "suspended" else None,
        connection_model=system.connection_model, via_platform=system.via_platform, credentials=creds,
        status_history=[StatusChangeView(status=c.status, actor=c.actor, reason=c.reason, until=c.until,
                                         changed_at=c.changed_at)
                        for c in repository.status_changes_of(session, system.system_id)],
        focal_points=_focal_point_views(session, org), focal_point_history=_focal_point_history(session, org),
    )


def focal_point_view(session: Session, point: FocalPoint) -> FocalPointView:
    org = session.get(Organisation, point.org_id)
    assert org is not None
    return _point_view(org, point)


def _point_view(org: Organisation, point: FocalPoint) -> FocalPointView:
    return FocalPointView(focal_point_id=point.focal_point_id, organisation=member_of(org), name=point.name,
                          position=point.position, function=point.function, phone=point.phone, email=point.email,
                          published=point.published, created_at=point.created_at, withdrawn_at=point.withdrawn_at)


def _focal_point_views(session: Session, org: Organisation) -> list[FocalPointView]:
    return [_point_view(org, p) for p in repository.focal_points_of(session, org.org_id)]


def _focal_point_history(session: Session, org: Organisation) -> list[FocalPointChangeView]:
    return [FocalPointChangeView(focal_point_id=c.focal_point_id, name=name, change=FocalPointChangeKind(c.kind),
                                 actor=c.actor, reason=c.reason, changes=c.changes, changed_at=c.changed_at)
            for c, name in repository.focal_point_history(session, org.org_id)]


def organisation_view(session: Session, org: Organisation, now: datetime) -> OrganisationView:
    """An organisation, its systems, its current focal points and every change to them."""
    listed = set(repository.listed_systems_of(session, org.org_id))
    systems = [OrganisationSystemView(identifier=s.identifier, name=s.name, listed=s.identifier in listed,
                                      status=effective_status(s.status, s.suspended_until, now).value)
               for s in repository.systems_of(session, org.org_id)]
    return OrganisationView(identifier=member_of(org), name=org.name, type=org.org_type, systems=systems,
                            focal_points=_focal_point_views(session, org),
                            focal_point_history=_focal_point_history(session, org))


def directory(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Connected agencies (live, suspended, or onboarding past step 2), their published focal points and
    their declared data-sharing readiness."""
    agencies: dict[int, dict[str, Any]] = {}
    for org, system, next_step in repository.directory_rows(session):
        entry = agencies.get(org.org_id) or _agency(session, org)
        agencies[org.org_id] = entry
        entry["systems"].append(_system_entry(system, next_step, now))
    return list(agencies.values())


def _agency(session: Session, org: Organisation) -> dict[str, Any]:
    org_type = OrganisationType(org.org_type)
    return {
        "identifier": member_of(org),
        "name": org.name,
        "type": org_type.value,
        "type_vi": org_type.name_vi,
        "focal_points": _focal_points(repository.focal_points_of(session, org.org_id, published_only=True)),
        "systems": [],
    }


def _focal_points(points: Sequence[Any]) -> list[dict[str, str]]:
    return [{"name": p.name, "position": p.position, "function": p.function, "phone": p.phone, "email": p.email}
            for p in points]


def _system_entry(system: InformationSystem, next_step: int | None, now: datetime) -> dict[str, Any]:
    status = effective_status(system.status, system.suspended_until, now)
    readiness = system.readiness or {}
    return {
        "identifier": system.identifier,
        "name": system.name,
        "status": status.value,
        "status_vi": STATUS_NAMES_VI[status],
        "onboarding_step": next_step if status == "onboarding" else None,
        "connection_model": system.connection_model,
        "catalogue_url": readiness.get("catalogue_url"),
        "shares": readiness.get("shares", []),
    }
