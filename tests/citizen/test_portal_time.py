"""One-time codes, lockout and housekeeping, by travelling in time with an injectable clock (no sleeping);
on a real database, one rolled-back transaction per test."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dancu.citizen.housekeeping import sweep
from dancu.citizen.models import (
    InboundSms,
    OneTimeCode,
    OutboxMessage,
    PortalAccount,
    PortalSession,
    SmsRateWindow,
)
from dancu.citizen.portal import accounts
from dancu.citizen.portal.accounts import PortalError
from dancu.citizen.providers.outbox import OutboxProvider, QueuedProvider, latest_to
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms import repository as sms_repo
from tests.citizen.conftest import new_phone
from tests.registry import factories

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)  # before every other test's rows expire
SETTINGS = CitizenSettings(code_minutes=5, code_attempts=5, session_minutes=30, sms_rate_window_s=600)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _portal(session: Session, expires_at: datetime = T0 + timedelta(minutes=30)) -> PortalSession:
    row = PortalSession(token_hash=secrets.token_bytes(32), csrf_token="t", stage="anonymous", expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def _registered(session: Session) -> tuple[PortalSession, dict[str, Any], str]:
    """A resident who asked to register at T0: the portal session and the code sent to their phone."""
    phone = new_phone()
    fields = factories.create(session, phone=phone).resident.fields
    portal = _portal(session)
    accounts.register(session, OutboxProvider(), SETTINGS, portal, fields["personal_id"], fields["full_name"],
                      fields["date_of_birth"], phone, clock=at(T0))
    session.flush()
    found = re.search(r"\b([0-9]{6})\b", latest_to(session, phone) or "")
    assert found
    return portal, {**fields, "phone": phone}, found.group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _account(session: Session, portal: PortalSession) -> PortalAccount:
    account = session.get(PortalAccount, portal.account_id)
    assert account is not None
    return account


def _guess_wrong(session: Session, portal: PortalSession, code: str, times: int, moment: datetime = T0) -> datetime:
    """``times`` wrong codes, each once the lockout of the one before has passed; the moment after the last."""
    for _ in range(times):
        with pytest.raises(PortalError):
            accounts.check_code(session, SETTINGS, portal, _wrong(code), clock=at(moment))
        locked_until = _account(session, portal).locked_until
        moment = max(moment, locked_until or moment)
    return moment


def test_a_code_is_good_until_it_expires(session: Session) -> None:
    portal, _, code = _registered(session)
    assert accounts.check_code(session, SETTINGS, portal, code, clock=at(T0 + timedelta(minutes=4, seconds=59))) \
        == "password"


def test_an_expired_code_is_refused_even_if_right(session: Session) -> None:
    portal, _, code = _registered(session)
    with pytest.raises(PortalError, match="bad_code"):
        accounts.check_code(session, SETTINGS, portal, code, clock=at(T0 + timedelta(minutes=5)))


def test_after_the_attempt_limit_even_the_right_code_is_refused(session: Session) -> None:
    portal, _, code = _registered(session)
    after = _guess_wrong(session, portal, code, SETTINGS.code_attempts)
    assert after < T0 + timedelta(minutes=SETTINGS.code_minutes)  # refused for the attempts, not for expiry
    with pytest.raises(PortalError, match="bad_code"):
        accounts.check_code(session, SETTINGS, portal, code, clock=at(after))


def test_one_attempt_short_of_the_limit_the_right_code_still_works(session: Session) -> None:
    portal, _, code = _registered(session)
    after = _guess_wrong(session, portal, code, SETTINGS.code_attempts - 1)
    assert accounts.check_code(session, SETTINGS, portal, code, clock=at(after)) == "password"
    assert (_account(session, portal).failed_logins, _account(session, portal).locked_until) == (0, None)


def test_wrong_codes_lock_the_account_with_growing_delays(session: Session) -> None:
    """New codes never buy fresh guesses: wrong codes count against the account like wrong passwords."""
    portal, _, code = _registered(session)
    for _ in range(accounts.FREE_FAILURES - 1):
        with pytest.raises(PortalError, match="bad_code"):
            accounts.check_code(session, SETTINGS, portal, _wrong(code), clock=at(T0))
    with pytest.raises(PortalError, match="locked") as locked:
        accounts.check_code(session, SETTINGS, portal, _wrong(code), clock=at(T0))
    assert locked.value.seconds == accounts.BASE_DELAY_S
    almost = T0 + timedelta(seconds=accounts.BASE_DELAY_S - 1)
    with pytest.raises(PortalError, match="locked"):  # not even compared while locked
        accounts.check_code(session, SETTINGS, portal, code, clock=at(almost))
    moment = T0 + timedelta(seconds=accounts.BASE_DELAY_S)
    with pytest.raises(PortalError, match="locked") as longer:
        accounts.check_code(session, SETTINGS, portal, _wrong(code), clock=at(moment))
    assert longer.value.seconds == 2 * accounts.BASE_DELAY_S
    assert accounts.check_code(session, SETTINGS, portal, code, clock=at(moment + timedelta(seconds=60))) == \
        "password"


def test_a_locked_account_gets_no_recovery_code(session: Session) -> None:
    portal, person, code = _registered(session)
    _guess_wrong(session, portal, code, accounts.FREE_FAILURES - 1)
    with pytest.raises(PortalError, match="locked"):
        accounts.check_code(session, SETTINGS, portal, _wrong(code), clock=at(T0))
    other = _portal(session)

    def sent() -> int:
        session.flush()
        return _count(session, OutboxMessage, OutboxMessage.to_number == person["phone"])

    before = sent()
    accounts.recover(session, OutboxProvider(), SETTINGS, other, person["personal_id"], person["phone"],
                     clock=at(T0 + timedelta(seconds=1)))
    assert other.account_id is None and sent() == before
    accounts.recover(session, OutboxProvider(), SETTINGS, other, person["personal_id"], person["phone"],
                     clock=at(T0 + timedelta(seconds=accounts.BASE_DELAY_S)))
    assert other.account_id == portal.account_id and sent() == before + 1


def test_a_code_is_single_use_and_a_new_one_voids_the_old(session: Session) -> None:
    portal, person, first = _registered(session)
    accounts.register(session, OutboxProvider(), SETTINGS, portal, person["personal_id"], person["full_name"],
                      person["date_of_birth"], person["phone"], clock=at(T0 + timedelta(minutes=1)))
    with pytest.raises(PortalError):
        accounts.check_code(session, SETTINGS, portal, first, clock=at(T0 + timedelta(minutes=1)))


def test_lockout_ends_when_its_delay_has_passed(session: Session) -> None:
    portal, person, code = _registered(session)
    accounts.check_code(session, SETTINGS, portal, code, clock=at(T0))
    portal.stage = "password"
    accounts.set_password(session, portal, "mat-khau-rat-dai-2026", "mat-khau-rat-dai-2026")
    for _ in range(accounts.FREE_FAILURES):
        with pytest.raises(PortalError):
            accounts.login(session, OutboxProvider(), SETTINGS, portal, person["personal_id"], "sai", clock=at(T0))
    locked_for = accounts.BASE_DELAY_S
    with pytest.raises(PortalError, match="locked"):
        accounts.login(session, OutboxProvider(), SETTINGS, portal, person["personal_id"], "mat-khau-rat-dai-2026",
                       clock=at(T0 + timedelta(seconds=locked_for - 1)))
    accounts.login(session, OutboxProvider(), SETTINGS, portal, person["personal_id"], "mat-khau-rat-dai-2026",
                   clock=at(T0 + timedelta(seconds=locked_for)))
    assert portal.stage == "code"


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_housekeeping_removes_only_what_expired(session: Session) -> None:
    live, old = _portal(session, T0 + timedelta(minutes=1)), _portal(session, T0 - timedelta(seconds=1))
    portal, _, _ = _registered(session)  # one pending code, valid until T0 + 5 min
    phone = "+84" + new_phone()[1:]
    sms_repo.hit(session, phone, T0 - timedelta(seconds=600))  # the window that just closed
    sms_repo.hit(session, phone, T0 - timedelta(seconds=599))  # still open
    session.flush()
    swept = sweep(session, SETTINGS, T0)
    assert swept.sessions >= 1 and swept.rate_windows >= 1
    assert {*session.scalars(select(PortalSession.token_hash).where(PortalSession.token_hash.in_(
        {live.token_hash, old.token_hash, portal.token_hash})))} == {live.token_hash, portal.token_hash}
    assert _count(session, SmsRateWindow, SmsRateWindow.phone == phone) == 1
    assert _count(session, OneTimeCode, OneTimeCode.account_id == portal.account_id) == 1
    assert sweep(session, SETTINGS, T0 + timedelta(minutes=5)).codes >= 1
    assert _count(session, OneTimeCode, OneTimeCode.account_id == portal.account_id) == 0


def test_housekeeping_blanks_expired_texts_and_forgets_old_inbound_keys(session: Session) -> None:
    phone = new_phone()
    QueuedProvider("smpp").send(session, phone, "Ma: 111111", kind="otp:login", valid_until=T0 + timedelta(minutes=5))
    QueuedProvider("http").send(session, phone, "Ma: 222222", kind="otp:login", valid_until=T0 + timedelta(minutes=6))
    OutboxProvider().send(session, phone, "Ma: 333333", kind="otp:login", valid_until=T0)  # demo: kept as it is
    old, recent = f"id:{secrets.token_hex(8)}", f"id:{secrets.token_hex(8)}"
    assert sms_repo.first_time(session, old, T0 - timedelta(seconds=SETTINGS.sms_inbound_keep_s))
    assert sms_repo.first_time(session, recent, T0) and not sms_repo.first_time(session, recent, T0)
    session.flush()
    swept = sweep(session, SETTINGS, T0 + timedelta(minutes=5))
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.to_number == phone)
                           .order_by(OutboxMessage.message_id)).all()
    assert [(r.channel, r.status, r.text) for r in rows] == [
        ("smpp", "expired", None), ("http", "pending", "Ma: 222222"), ("outbox", "demo", "Ma: 333333")]
    assert swept.texts_expired >= 1 and swept.inbound_keys >= 1
    assert session.scalars(select(InboundSms.key).where(InboundSms.key.in_([old, recent]))).all() == [recent]
