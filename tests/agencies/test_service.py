"""Suspension with an end date, on the real database (rolled back per test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from dancu.agencies import service
from dancu.agencies.domain import SystemStatus, effective_status
from dancu.agencies.schemas import OnboardingCreate
from tests.agencies.factories import letter

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_a_dated_suspension_lifts_itself_and_is_recorded_by_resume_due(session: Session) -> None:
    ctx = service.Context(session, "officer", NOW)
    request = service.start(ctx, OnboardingCreate.model_validate(letter()))
    system = session.get(service.InformationSystem, request.system_id)
    assert system is not None
    system.status = SystemStatus.ACTIVE.value
    service.suspend(ctx, system.identifier, "Bảo trì", NOW + timedelta(hours=1))
    assert effective_status(system.status, system.suspended_until, NOW) is SystemStatus.SUSPENDED
    later = NOW + timedelta(hours=2)
    assert effective_status(system.status, system.suspended_until, later) is SystemStatus.ACTIVE
    assert service.resume_due(service.Context(session, "scheduler", later)) == [system.identifier]
    assert system.status == "active" and system.suspended_until is None
