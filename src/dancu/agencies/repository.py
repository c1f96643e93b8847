"""Every query of connected systems; nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dancu.agencies.identifiers import MemberId
from dancu.agencies.models import (
    FocalPoint,
    FocalPointChange,
    InformationSystem,
    OnboardingRequest,
    OnboardingStep,
    Organisation,
    SystemCredential,
    SystemStatusChange,
    UsedAssertion,
)
from dancu.ledger.models import LedgerEntryRow


def organisation_by_member(session: Session, member: MemberId) -> Organisation | None:
    return session.scalars(
        select(Organisation).where(
            Organisation.instance == member.instance,
            Organisation.member_class == member.member_class,
            Organisation.member_code == member.member_code,
        )
    ).one_or_none()


def locked_organisation(session: Session, member: MemberId) -> Organisation | None:
    """The organisation row, locked until the transaction ends (changes to its focal points serialise on it)."""
    stmt = select(Organisation).where(
        Organisation.instance == member.instance,
        Organisation.member_class == member.member_class,
        Organisation.member_code == member.member_code,
    ).with_for_update()
    return session.scalars(stmt).one_or_none()


def system_by_identifier(session: Session, identifier: str) -> InformationSystem | None:
    return session.scalars(select(InformationSystem).where(InformationSystem.identifier == identifier)).one_or_none()


def locked_system(session: Session, identifier: str) -> InformationSystem | None:
    """The system row, locked until the transaction ends (status changes serialise on it)."""
    stmt = select(InformationSystem).where(InformationSystem.identifier == identifier).with_for_update()
    return session.scalars(stmt).one_or_none()


def locked_request(session: Session, request_id: int) -> OnboardingRequest | None:
    stmt = select(OnboardingRequest).where(OnboardingRequest.request_id == request_id).with_for_update()
    return session.scalars(stmt).one_or_none()


def steps_of(session: Session, request_id: int) -> Sequence[OnboardingStep]:
    stmt = select(OnboardingStep).where(OnboardingStep.request_id == request_id).order_by(OnboardingStep.step_no)
    return session.scalars(stmt).all()


def requests_of(session: Session, system_id: int) -> Sequence[OnboardingRequest]:
    stmt = select(OnboardingRequest).where(OnboardingRequest.system_id == system_id)
    return session.scalars(stmt.order_by(OnboardingRequest.request_id)).all()


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def focal_points_of(session: Session, org_id: int, published_only: bool = False) -> Sequence[FocalPoint]:
    """The organisation's focal points that are not withdrawn (only the public ones with ``published_only``)."""
    stmt = select(FocalPoint).where(FocalPoint.org_id == org_id, FocalPoint.withdrawn_at.is_(None))
    if published_only:
        stmt = stmt.where(FocalPoint.published.is_(True))
    return session.scalars(stmt.order_by(FocalPoint.focal_point_id)).all()


def focal_point_history(session: Session, org_id: int) -> Sequence[tuple[FocalPointChange, str]]:
    """Every change to the organisation's focal points, withdrawn ones included, oldest first, with the name."""
    stmt = (
        select(FocalPointChange, FocalPoint.name)
        .join(FocalPoint, FocalPoint.focal_point_id == FocalPointChange.focal_point_id)
        .where(FocalPoint.org_id == org_id)
        .order_by(FocalPointChange.change_id)
    )
    return [(change, name) for change, name in session.execute(stmt).all()]


def systems_of(session: Session, org_id: int) -> Sequence[InformationSystem]:
    stmt = select(InformationSystem).where(InformationSystem.org_id == org_id)
    return session.scalars(stmt.order_by(InformationSystem.identifier)).all()


def credentials_of(session: Session, system_id: int, method: str | None = None,
                   live_only: bool = True) -> Sequence[SystemCredential]:
    stmt = select(SystemCredential).where(SystemCredential.system_id == system_id)
    if method:
        stmt = stmt.where(SystemCredential.method == method)
    if live_only:
        stmt = stmt.where(SystemCredential.revoked_at.is_(None))
    return session.scalars(stmt.order_by(SystemCredential.credential_id)).all()


def status_changes_of(session: Session, system_id: int) -> Sequence[SystemStatusChange]:
    return session.scalars(select(SystemStatusChange).where(SystemStatusChange.system_id == system_id)
                           .order_by(SystemStatusChange.change_id)).all()


def revoke_credentials(session: Session, system_id: int, actor: str, at: datetime, kid: str | None = None) -> int:
    stmt = (
        update(SystemCredential)
        .where(SystemCredential.system_id == system_id, SystemCredential.revoked_at.is_(None))
        .values(revoked_at=at, revoked_by=actor)
    )
    if kid is not None:
        stmt = stmt.where(SystemCredential.kid == kid)
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def spend_jti(session: Session, system_id: int, jti: str, expires_at: datetime) -> bool:
    """Record ``jti`` as used; False when it already was (a replay)."""
    stmt = (
        insert(UsedAssertion)
        .values(system_id=system_id, jti=jti, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(UsedAssertion.jti)
    )
    return session.execute(stmt).first() is not None


def prune_used_assertions(session: Session, before: datetime) -> int:
    """Forget spent ``jti`` whose assertions can no longer be presented anyway."""
    result = session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < before - timedelta(minutes=5)))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AuthSnapshot:
    identifier: str
    org_id: int
    status: str
    suspended_until: datetime | None
    status_reason: str | None
    credential_system_id: int
    credential_kind: str
    revoked_at: datetime | None


def auth_snapshot(session: Session, credential_id: int) -> AuthSnapshot | None:
    """Status of a credential and its system now: one query over two primary keys."""
    stmt = (
        select(InformationSystem.identifier, InformationSystem.org_id, InformationSystem.status,
               InformationSystem.suspended_until, InformationSystem.status_reason, SystemCredential.system_id,
               SystemCredential.kind, SystemCredential.revoked_at)
        .join(InformationSystem, InformationSystem.system_id == SystemCredential.system_id)
        .where(SystemCredential.credential_id == credential_id)
    )
    row = session.execute(stmt).first()
    return AuthSnapshot(*row) if row else None


def status_history(session: Session, system_id: int) -> Sequence[SystemStatusChange]:
    stmt = select(SystemStatusChange).where(SystemStatusChange.system_id == system_id)
    return session.scalars(stmt.order_by(SystemStatusChange.change_id)).all()


def _latest_requests() -> Any:
    """Each system's newest onboarding request: ``system_id``, ``next_step``."""
    newest = select(func.max(OnboardingRequest.request_id)).group_by(OnboardingRequest.system_id)
    return (
        select(OnboardingRequest.system_id, OnboardingRequest.next_step)
        .where(OnboardingRequest.request_id.in_(newest))
        .subquery()
    )


def _listed(latest: Any) -> Any:
    """The systems the public directory lists: live, suspended, or onboarding past step 2."""
    return (InformationSystem.status.in_(("active", "suspended"))
            | ((InformationSystem.status == "onboarding") & (latest.c.next_step > 2)))


def directory_rows(session: Session) -> Sequence[tuple[Organisation, InformationSystem, int | None]]:
    """Systems that are live, suspended or onboarding past step 2, with their organisation and next step."""
    latest = _latest_requests()
    stmt = (
        select(Organisation, InformationSystem, latest.c.next_step)
        .join(InformationSystem, InformationSystem.org_id == Organisation.org_id)
        .outerjoin(latest, latest.c.system_id == InformationSystem.system_id)
        .where(_listed(latest))
        .order_by(Organisation.name, InformationSystem.identifier)
    )
    return [(org, system, next_step) for org, system, next_step in session.execute(stmt).all()]


def listed_systems_of(session: Session, org_id: int) -> list[str]:
    """Identifiers of the organisation's systems the public directory lists (see :func:`directory_rows`)."""
    latest = _latest_requests()
    stmt = (
        select(InformationSystem.identifier)
        .outerjoin(latest, latest.c.system_id == InformationSystem.system_id)
        .where(InformationSystem.org_id == org_id, _listed(latest))
        .order_by(InformationSystem.identifier)
    )
    return list(session.scalars(stmt).all())


def suspended_until_before(session: Session, at: datetime) -> Sequence[InformationSystem]:
    stmt = select(InformationSystem).where(
        InformationSystem.status == "suspended", InformationSystem.suspended_until <= at
    ).with_for_update(skip_locked=True)
    return session.scalars(stmt).all()


# -- the sandbox (plain psycopg: it is loaded by the synthetic population's bulk loader) ------------------------
SANDBOX_LOCK = 0x5A4E_DB0C  # advisory lock: one sandbox load at a time


def lock_sandbox(conn: psycopg.Connection) -> None:
    """Wait for, then hold (until :func:`unlock_sandbox` or the connection closes), the sandbox load lock."""
    conn.execute("SELECT pg_advisory_lock(%s)", (SANDBOX_LOCK,))


def unlock_sandbox(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (SANDBOX_LOCK,))


def mark_sandbox(cur: psycopg.Cursor, load_key: str, resident_ids: list[int]) -> None:
    cur.execute("INSERT INTO sandbox_resident (resident_id, load_key) SELECT unnest(%s::bigint[]), %s",
                (resident_ids, load_key))


def sandbox_loads(conn: psycopg.Connection, kind: str) -> list[dict[str, Any]]:
    """Every sandbox load job, oldest first: key, state, residents asked and stored, seed, who, when."""
    cur = conn.execute("SELECT job_key, state, total, done, params, started_at, finished_at FROM job "
                       "WHERE kind = %s ORDER BY job_id", (kind,))
    return [{"job_key": key, "state": state, "residents": int(total), "loaded": int(done),
             "seed": int(params["seed"]), "loaded_by": params.get("loaded_by"), "started_at": started,
             "finished_at": finished}
            for key, state, total, done, params, started, finished in cur.fetchall()]


def sandbox_count(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM sandbox_resident").fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class ServiceCalls:
    """A system's successful exchange calls of one service in the log since some moment."""

    service: str
    calls: int
    first_seq: int
    last_seq: int
    relaying_platforms: tuple[str, ...]


def successful_calls(session: Session, client_system: str, since: datetime,
                     services: Sequence[str]) -> list[ServiceCalls]:
    """Per service of ``services``: the exchange-log entries for ``client_system`` recorded since ``since`` that
    were answered with code ``ok`` (result ``ok``, no error code) — read from the log, whatever anyone says."""
    entry = LedgerEntryRow
    stmt = (
        select(entry.service, func.count(), func.min(entry.seq), func.max(entry.seq),
               func.array_remove(func.array_agg(entry.relaying_platform.distinct()), None))
        .where(entry.client_system == client_system, entry.recorded_at >= since, entry.kind == "exchange",
               entry.result == "ok", entry.error_code.is_(None), entry.service.in_(services))
        .group_by(entry.service).order_by(entry.service)
    )
    return [ServiceCalls(service, int(n), int(first), int(last), tuple(platforms))
            for service, n, first, last, platforms in session.execute(stmt).all()]
