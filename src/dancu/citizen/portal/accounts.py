"""Portal accounts: register with ID, name, date of birth and the registered phone; one-time codes by SMS;
argon2id passwords; lockout with increasing delays.  Never commits; messages are keys of i18n.TEXTS.

A wrong password and a wrong one-time code are both failures of the account: after ``FREE_FAILURES`` of
them the account is locked for ``BASE_DELAY_S``, doubling with each further failure up to ``MAX_DELAY_S``;
only a completed sign-in (the right code) clears them.  So new codes (by logging in again or by recovery)
never buy fresh guesses at a 6-digit code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dancu.citizen.clock import Clock, system_clock
from dancu.citizen.models import OneTimeCode, PortalAccount, PortalSession
from dancu.citizen.providers import SmsProvider
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms import repository as sms_repo
from dancu.citizen.sms.service import window
from dancu.kit.text import exact_key
from dancu.registry import repository as registry
from dancu.registry.domain import normalise_phone
from dancu.registry.models import Resident

HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 "low memory" profile
MIN_PASSWORD = 10
FREE_FAILURES = 3  # failed logins before delays start; each further one doubles the delay
BASE_DELAY_S = 30
MAX_DELAY_S = 3600
_DUMMY_HASH = HASHER.hash("dancu-timing-equaliser")


class PortalError(Exception):
    """A refusal to show the user: ``key`` names the text, ``seconds`` fills a delay."""

    def __init__(self, key: str, seconds: int = 0) -> None:
        super().__init__(key)
        self.key = key
        self.seconds = seconds


def _code_hash(account_id: int, code: str) -> bytes:
    return hashlib.sha256(f"{account_id}:{code}".encode()).digest()


def _matching_resident(session: Session, personal_id: str, full_name: str, dob: str, phone: str) -> Resident | None:
    resident = registry.find(session, personal_id.strip())
    if resident is None or resident.phone is None:
        return None
    state = registry.state_of(resident)
    same = (exact_key(full_name) == exact_key(resident.full_name or "") and dob.strip() == state["date_of_birth"]
            and normalise_phone(phone) is not None and normalise_phone(phone) == normalise_phone(resident.phone))
    return resident if same else None


def send_code(session: Session, provider: SmsProvider, settings: CitizenSettings, account: PortalAccount,
              purpose: str, phone: str, clock: Clock = system_clock) -> None:
    """A new code (older ones void) sent through ``provider`` in this transaction: with the outbox it leaves
    only once the transaction commits, and not at all after the code expired.  At most ``sms_code_limit``
    codes per number per rate window (counted with the SMS channel's windows, key ``code:<number>``), else
    PortalError("too_many_codes") and nothing is sent."""
    now = clock()
    if sms_repo.hit(session, f"code:{phone}", window(now, settings.sms_rate_window_s)) > settings.sms_code_limit:
        raise PortalError("too_many_codes")
    code = f"{secrets.randbelow(1_000_000):06d}"
    expires = now + timedelta(minutes=settings.code_minutes)
    session.execute(update(OneTimeCode).where(OneTimeCode.account_id == account.account_id,
                                              OneTimeCode.used_at.is_(None)).values(used_at=now))
    session.add(OneTimeCode(account_id=account.account_id, purpose=purpose, code_hash=_code_hash(account.account_id,
                            code), expires_at=expires, attempts=0))
    provider.send(session, phone, f"Ma xac thuc Cong tra cuu dan cu: {code}. Hieu luc "
                                  f"{settings.code_minutes} phut. Khong chia se ma nay cho bat ky ai.",
                  kind=f"otp:{purpose}", valid_until=expires)


def register(session: Session, provider: SmsProvider, settings: CitizenSettings, portal: PortalSession,
             personal_id: str, full_name: str, dob: str, phone: str, clock: Clock = system_clock) -> None:
    resident = _matching_resident(session, personal_id, full_name, dob, phone)
    if resident is None or resident.phone is None:
        raise PortalError("mismatch")
    account = session.scalars(select(PortalAccount).where(PortalAccount.personal_id == resident.personal_id)).first()
    if account is not None and account.password_hash is not None:
        raise PortalError("mismatch")
    if account is None:
        account = PortalAccount(personal_id=resident.personal_id, failed_logins=0)
        session.add(account)
        session.flush()
    send_code(session, provider, settings, account, "register", normalise_phone(resident.phone) or resident.phone,
              clock)
    portal.account_id, portal.stage, portal.purpose = account.account_id, "code", "register"


def recover(session: Session, provider: SmsProvider, settings: CitizenSettings, portal: PortalSession,
            personal_id: str, phone: str, clock: Clock = system_clock) -> None:
    """Send a code only if the account exists, is not locked and the phone is the registered one; say the
    same either way."""
    account = session.scalars(select(PortalAccount).where(PortalAccount.personal_id == personal_id.strip())).first()
    resident = registry.find(session, personal_id.strip()) if account else None
    registered = normalise_phone(resident.phone) if resident is not None and resident.phone else None
    if (account is None or registered is None or normalise_phone(phone) != registered
            or _locked_for(account, clock())):
        portal.stage, portal.purpose, portal.account_id = "code", "recover", None
        return
    try:
        send_code(session, provider, settings, account, "recover", registered, clock)
    except PortalError:  # too many codes to this number: the page says the same, as for a mismatch
        portal.stage, portal.purpose, portal.account_id = "code", "recover", None
        return
    portal.account_id, portal.stage, portal.purpose = account.account_id, "code", "recover"


def _delay(failures: int) -> int:
    return 0 if failures < FREE_FAILURES else min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (failures - FREE_FAILURES))


def _locked_for(account: PortalAccount, now: datetime) -> int:
    """Seconds the account stays locked (0: not locked)."""
    if account.locked_until is None or account.locked_until <= now:
        return 0
    return int((account.locked_until - now).total_seconds()) + 1


def _fail(account: PortalAccount, now: datetime, otherwise: str) -> PortalError:
    """Count one failed password or code; the error to show (``locked`` once a delay applies)."""
    account.failed_logins += 1
    delay = _delay(account.failed_logins)
    account.locked_until = now + timedelta(seconds=delay) if delay else None
    return PortalError("locked", delay) if delay else PortalError(otherwise)


def login(session: Session, provider: SmsProvider, settings: CitizenSettings, portal: PortalSession,
          personal_id: str, password: str, clock: Clock = system_clock) -> None:
    now = clock()
    account = session.scalars(select(PortalAccount).where(PortalAccount.personal_id == personal_id.strip())
                              .with_for_update()).first()
    if account is None or account.password_hash is None:
        _verify(_DUMMY_HASH, password)
        raise PortalError("bad_login")
    if locked := _locked_for(account, now):
        raise PortalError("locked", locked)
    if not _verify(account.password_hash, password):
        raise _fail(account, now, "bad_login")
    resident = registry.find(session, account.personal_id)
    phone = normalise_phone(resident.phone) if resident is not None and resident.phone else None
    if phone is None:
        raise PortalError("bad_login")
    send_code(session, provider, settings, account, "login", phone, clock)
    portal.account_id, portal.stage, portal.purpose = account.account_id, "code", "login"


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except VerificationError:
        return False


def check_code(session: Session, settings: CitizenSettings, portal: PortalSession, code: str,
               clock: Clock = system_clock) -> str:
    """Consume the pending code; the next stage ("password" or "signed_in"), or PortalError("bad_code"), or
    PortalError("locked") while the account is locked (the code is then not even compared).

    A code is refused once expired (``code_minutes``) or after ``code_attempts`` wrong tries, even if right;
    a wrong code counts as a failure of the account (see the module's docstring)."""
    now = clock()
    if portal.account_id is None or portal.stage != "code":
        raise PortalError("bad_code")
    account = session.get(PortalAccount, portal.account_id, with_for_update=True)
    if account is None:
        raise PortalError("bad_code")
    if locked := _locked_for(account, now):
        raise PortalError("locked", locked)
    row = session.scalars(select(OneTimeCode).where(
        OneTimeCode.account_id == portal.account_id, OneTimeCode.purpose == portal.purpose,
        OneTimeCode.used_at.is_(None)).order_by(OneTimeCode.code_id.desc()).with_for_update()).first()
    if row is None or row.expires_at <= now or row.attempts >= settings.code_attempts:
        raise PortalError("bad_code")
    if not hmac.compare_digest(row.code_hash, _code_hash(portal.account_id, code.strip())):
        row.attempts += 1
        raise _fail(account, now, "bad_code")
    row.used_at = now
    account.failed_logins, account.locked_until = 0, None
    return "signed_in" if portal.purpose == "login" else "password"


def set_password(session: Session, portal: PortalSession, password: str, confirm: str) -> None:
    if portal.stage != "password" or portal.account_id is None:
        raise PortalError("csrf")
    if len(password) < MIN_PASSWORD or password != confirm or len(password) > 1024:
        raise PortalError("weak_password")
    account = session.get(PortalAccount, portal.account_id)
    assert account is not None
    account.password_hash = HASHER.hash(password)
    account.failed_logins, account.locked_until = 0, None
    # a new password (registration or recovery) ends every other session of the account
    session.execute(delete(PortalSession).where(PortalSession.account_id == account.account_id,
                                                PortalSession.token_hash != portal.token_hash))
