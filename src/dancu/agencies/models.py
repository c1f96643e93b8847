"""Tables of connected systems: organisations, their systems, focal points, onboarding steps, credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base
from dancu.policy import models as policy_models  # noqa: F401 — policy tables register with this schema


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Organisation(Base):
    """A member (cơ quan, tổ chức) in X-Road terms: ``instance/member_class/member_code``."""

    __tablename__ = "organisation"
    __table_args__ = (Index("uq_organisation_member", "instance", "member_class", "member_code", unique=True),)

    org_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    instance: Mapped[str] = mapped_column(Text)
    member_class: Mapped[str] = mapped_column(Text)
    member_code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    org_type: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class InformationSystem(Base):
    """A subsystem that connects; ``identifier`` is ``INSTANCE/CLASS/CODE/SUBSYSTEM`` and the OAuth client_id."""

    __tablename__ = "information_system"

    system_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organisation.org_id"), index=True)
    identifier: Mapped[str] = mapped_column(Text, unique=True)
    subsystem_code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    connection_model: Mapped[str | None] = mapped_column(Text)
    via_platform: Mapped[str | None] = mapped_column(Text)
    readiness: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status_reason: Mapped[str | None] = mapped_column(Text)
    suspended_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime] = _now()
    created_at: Mapped[datetime] = _now()


class SystemStatusChange(Base):
    """History of suspensions, resumptions and terminations (kept after termination)."""

    __tablename__ = "system_status_change"

    change_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    system_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("information_system.system_id"), index=True)
    status: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = _now()


class FocalPoint(Base):
    """Cán bộ đầu mối: the officer an agency names for its connection; public once ``published``, until
    ``withdrawn_at`` (the row and its history stay)."""

    __tablename__ = "focal_point"

    focal_point_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organisation.org_id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    position: Mapped[str] = mapped_column(Text)
    function: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _now()
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


FOCAL_POINT_CHANGE_KINDS = "kind IN ('proposed', 'added', 'published', 'updated', 'withdrawn')"


class FocalPointChange(Base):
    """History of a focal point: named, published, changed, withdrawn — who, when, why, and ``changes``
    (``{field: [old, new]}``; every field from null when named)."""

    __tablename__ = "focal_point_change"
    __table_args__ = (CheckConstraint(FOCAL_POINT_CHANGE_KINDS, name="kind"),)

    change_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    focal_point_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("focal_point.focal_point_id"), index=True)
    kind: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, list[str | None]]] = mapped_column(JSONB)
    changed_at: Mapped[datetime] = _now()


class OnboardingRequest(Base):
    __tablename__ = "onboarding_request"

    request_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    system_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("information_system.system_id"), index=True)
    state: Mapped[str] = mapped_column(Text)
    next_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class OnboardingStep(Base):
    """One recorded step; the primary key makes a repeated step impossible even under a race."""

    __tablename__ = "onboarding_step"

    request_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("onboarding_request.request_id"), primary_key=True
    )
    step_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    documents: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    decision: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class SystemCredential(Base):
    """A public key (``private_key_jwt``) or a client-certificate thumbprint (``tls_client_auth``)."""

    __tablename__ = "system_credential"
    __table_args__ = (
        Index("uq_system_credential_system_id_kid", "system_id", "kid", unique=True),
        Index("ix_system_credential_cert_thumbprint", "cert_thumbprint"),
    )

    credential_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    system_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("information_system.system_id"))
    kid: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    cert_thumbprint: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    revoked_by: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UsedAssertion(Base):
    """``jti`` of client assertions already spent (RFC 7523 §3 replay protection), kept until they expire."""

    __tablename__ = "used_assertion"

    system_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    jti: Mapped[str] = mapped_column(Text, primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SandboxResident(Base):
    """A resident of the test environment (môi trường kiểm thử): synthetic, generated by ``dancu.synth`` and
    loaded by ``dancu agencies sandbox load`` — no real person.  Test credentials reach only these residents;
    production credentials never see them."""

    __tablename__ = "sandbox_resident"

    resident_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("resident.resident_id"), primary_key=True)
    load_key: Mapped[str] = mapped_column(Text)  # the load job (job.job_key) that created it
    loaded_at: Mapped[datetime] = _now()
