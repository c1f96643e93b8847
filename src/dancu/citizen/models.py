"""Tables of the citizen channels: SMS rate windows, the SMS outbox and inbound message keys, portal
accounts, one-time codes, e-identification (VNeID) subjects, portal sessions and the correction-request queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dancu.db.base import Base


class SmsRateWindow(Base):
    """How many look-ups one sender number made in one fixed window (shared by every process)."""

    __tablename__ = "citizen_sms_rate"

    phone: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class OutboxMessage(Base):
    """A text to a phone (one-time codes of the portal): the transactional outbox and its delivery history.

    Written in the sender's own transaction (``pending``, on ``channel`` ``smpp`` or ``http``); a delivery
    worker of that channel claims it (``sending``, leased until ``next_attempt_at``), sends it, and marks it
    ``sent`` with the provider's message id, or ``pending`` again after a backoff, ``failed`` after the last
    attempt, ``expired`` once ``expires_at`` passed unsent.  The text is blanked (NULL) in each of those final
    states, so no code stays readable; to, when, status and attempts are kept.  Channel ``outbox`` (status
    ``demo``) is the development and demo path: never sent, the text kept for ``dancu citizen outbox``."""

    __tablename__ = "citizen_sms_outbox"
    __table_args__ = (Index("ix_citizen_sms_outbox_due", "channel", "next_attempt_at",
                            postgresql_where=text("status IN ('pending', 'sending')")),)

    message_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    to_number: Mapped[str] = mapped_column(Text, index=True)
    text: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # e.g. otp:register, otp:login, otp:recover
    channel: Mapped[str] = mapped_column(Text)  # smpp | http | outbox
    status: Mapped[str] = mapped_column(Text)  # pending | sending | sent | failed | expired | demo
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)


class InboundSms(Base):
    """An aggregator's inbound message already taken (its ``message_id``, or its signature when it has none):
    a replayed or retried webhook request is not looked up again."""

    __tablename__ = "citizen_sms_inbound"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class PortalAccount(Base):
    __tablename__ = "citizen_account"

    account_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    personal_id: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OneTimeCode(Base):
    __tablename__ = "citizen_otp"
    __table_args__ = (Index("ix_citizen_otp_account_id_purpose", "account_id", "purpose"),)

    code_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("citizen_account.account_id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EidSubject(Base):
    """A subject of the electronic identification system (VNeID) linked to the personal ID its ID token named."""

    __tablename__ = "citizen_eid_subject"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    subject_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    issuer: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    personal_id: Mapped[str] = mapped_column(Text, index=True)
    level: Mapped[int] = mapped_column(SmallInteger)  # assurance level of the latest login
    first_login: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PortalSession(Base):
    """A browser session (anonymous, waiting for a code, at the e-ID provider, or signed in) and its CSRF
    synchroniser token.  Signed in through a portal account (``account_id``) or an e-ID (``eid_subject_id``)."""

    __tablename__ = "citizen_session"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    csrf_token: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("citizen_account.account_id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(Text)  # anonymous | code | password | eid | signed_in
    purpose: Mapped[str | None] = mapped_column(Text)  # register | login | recover
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    eid_subject_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("citizen_eid_subject.subject_id", ondelete="CASCADE"))
    access_level: Mapped[int | None] = mapped_column(SmallInteger)  # 1 | 2 once signed in
    # the pending authorization request at the e-ID provider (single use; cleared by the callback)
    oidc_state: Mapped[str | None] = mapped_column(Text)
    oidc_nonce: Mapped[str | None] = mapped_column(Text)
    oidc_verifier: Mapped[str | None] = mapped_column(Text)


class CorrectionRequest(Base):
    """A citizen's request to correct a field: the database manager's queue."""

    __tablename__ = "correction_request"
    __table_args__ = (Index("ix_correction_request_status_created_at", "status", "created_at"),)

    request_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    personal_id: Mapped[str] = mapped_column(Text, index=True)
    field: Mapped[str] = mapped_column(Text)
    current_value: Mapped[str | None] = mapped_column(Text)
    requested_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="open")  # open | accepted | rejected
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
