"""Every query of policy: versions and quota counters.  Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dancu.policy.domain import Environment
from dancu.policy.models import PolicyVersion, QuotaUsage

PRODUCTION = Environment.PRODUCTION.value


def in_force(session: Session, system_id: int, at: datetime, environment: str = PRODUCTION) -> PolicyVersion | None:
    stmt = select(PolicyVersion).where(
        PolicyVersion.system_id == system_id,
        PolicyVersion.environment == environment,
        PolicyVersion.valid_from <= at,
        (PolicyVersion.valid_to.is_(None)) | (PolicyVersion.valid_to > at),
    )
    return session.scalars(stmt.order_by(PolicyVersion.version.desc()).limit(1)).one_or_none()


def versions(session: Session, system_id: int, environment: str | None = None) -> Sequence[PolicyVersion]:
    """Versions of a system, of one environment or (``None``) of both: production first, then test."""
    stmt = select(PolicyVersion).where(PolicyVersion.system_id == system_id)
    if environment is not None:
        stmt = stmt.where(PolicyVersion.environment == environment)
    order = (PolicyVersion.environment != PRODUCTION, PolicyVersion.version)
    return session.scalars(stmt.order_by(*order)).all()


def end_open_version(session: Session, system_id: int, at: datetime, environment: str | None = None) -> int:
    """End the open version of ``environment``, or (``None``) of every environment."""
    stmt = update(PolicyVersion).where(PolicyVersion.system_id == system_id, PolicyVersion.valid_to.is_(None))
    if environment is not None:
        stmt = stmt.where(PolicyVersion.environment == environment)
    return int(session.execute(stmt.values(valid_to=at)).rowcount)  # type: ignore[attr-defined]


def add_version(session: Session, row: PolicyVersion) -> None:
    session.add(row)
    session.flush()


def consume(session: Session, system_id: int, day: date, amount: int, limit: int,
            environment: str = PRODUCTION) -> int | None:
    """Add ``amount`` to the day's counter if it stays within ``limit``; the new total, else ``None``.

    One atomic upsert: concurrent callers never overshoot the limit together.
    """
    if amount > limit:
        return None
    stmt = insert(QuotaUsage).values(system_id=system_id, environment=environment, day=day, used=amount)
    upsert = stmt.on_conflict_do_update(
        index_elements=[QuotaUsage.system_id, QuotaUsage.environment, QuotaUsage.day],
        set_={"used": QuotaUsage.used + stmt.excluded.used},
        where=QuotaUsage.used + stmt.excluded.used <= limit,
    ).returning(QuotaUsage.used)
    row = session.execute(upsert).first()
    return int(row[0]) if row else None


def used(session: Session, system_id: int, day: date, environment: str = PRODUCTION) -> int:
    row = session.get(QuotaUsage, (system_id, environment, day))
    return row.used if row else 0
