"""Citizen-channel fixtures: committed residents with their own phone numbers, signed webhook calls, a bank
that verifies a resident through the real exchange API, the application's clock, a log recorder, how the
portal's texts leave (the demo outbox or a delivery channel), and an exchange log that cannot be written."""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from dancu.citizen import signing
from dancu.citizen.settings import get_citizen_settings
from dancu.db import Database
from tests.exchange.helpers import ACTOR, bearer, grant, onboard, unique
from tests.ledger.reads import FailingWriter as FailingWriter
from tests.registry import factories

BANK_PURPOSE = "xác thực khách hàng mở tài khoản"


def new_phone() -> str:
    return "09" + f"{random.randrange(10**8):08d}"


def make_resident(database: Database, **overrides: Any) -> dict[str, Any]:
    """A resident committed for real (HTTP, SMPP and browser tests read it from other connections)."""
    phone = overrides.pop("phone", new_phone())
    with database.sessions.begin() as session:
        record = factories.create(session, phone=phone, **overrides)
    fields = record.resident.fields
    return {"personal_id": fields["personal_id"], "phone": phone, "full_name": fields["full_name"],
            "date_of_birth": fields["date_of_birth"]}


def ledger_rows(database: Database, personal_id: str, service: str) -> list[Any]:
    with database.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT * FROM ledger_entry WHERE personal_ids @> ARRAY[CAST(:pid AS text)] AND service = :s"
            " ORDER BY seq"), {"pid": personal_id, "s": service}))


def send_sms(http: httpx.Client, sender: str, message: str, secret: str | None = None, at: datetime | None = None,
             message_id: str | None = None) -> httpx.Response:
    """The aggregator's signed POST of one inbound SMS, timestamped ``at`` (now), with a fresh message id unless
    one is given."""
    body = json.dumps({"from": sender, "to": "8288", "text": message,
                       "message_id": message_id or unique("agg-")}).encode()
    signed = signing.headers(secret or get_citizen_settings().sms_webhook_secret, body, at or datetime.now(UTC))
    return http.post("/citizen/sms/inbound", content=body, headers={"content-type": "application/json", **signed})


@pytest.fixture
def resident(database: Database) -> dict[str, Any]:
    return make_resident(database)


@dataclass(frozen=True)
class BankCheck:
    system: str  # the bank's client-system identifier (VN/COM/<member>/EKYC)
    organisation: str  # the bank's registered name
    correlation_id: str  # its X-Road-Id, the log entry's correlation id


def bank_verification(live_server: str, person: dict[str, Any], purpose: str = BANK_PURPOSE) -> BankCheck:
    """A bank taken through the 10 onboarding steps (tests.exchange.helpers.onboard) gets an OAuth token with
    its private_key_jwt and verifies ``person``'s name and date of birth: POST /exchange/v1/verify."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        bank = onboard(http, grant(services=["verify"], purposes=[purpose]))
        correlation = unique("citizen-ekyc-")
        answered = http.post("/exchange/v1/verify", json={
            "personal_id": person["personal_id"], "purpose": purpose, "full_name": person["full_name"],
            "date_of_birth": person["date_of_birth"]}, headers=bearer(bank.token(http), **{"X-Road-Id": correlation}))
        assert answered.status_code == 200, answered.text
        assert answered.json()["match"] is True
        system = http.get(f"/agencies/systems/{bank.identifier}", headers=ACTOR)
        assert system.status_code == 200, system.text
    return BankCheck(bank.identifier, str(system.json()["organisation"]), correlation)


class TimeTravel:
    """The live application's clock (``app.state.citizen_clock``): the real time moved by ``offset``."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def by(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def to(self, moment: datetime) -> None:
        """From now on the clock reads ``moment`` (and runs on from there)."""
        self.offset = moment - datetime.now(UTC)


def window_start(moment: datetime, seconds: int = 600) -> datetime:
    """The start of the fixed SMS rate window ``moment`` falls in."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


@pytest.fixture
def travel(live_app: FastAPI) -> Iterator[TimeTravel]:
    before = getattr(live_app.state, "citizen_clock", None)
    clock = live_app.state.citizen_clock = TimeTravel()
    yield clock
    live_app.state.citizen_clock = before


class Recorder(logging.Handler):
    """Every log record of the process (the portal and the SMPP gateway run in-process), formatted."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.__dict__}")

    def mentioning(self, *secrets: str) -> list[str]:
        return [line for line in self.lines if any(s in line for s in secrets)]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler, root = Recorder(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def _delivery(mode: str) -> Iterator[None]:
    settings = get_citizen_settings()
    before = settings.sms_delivery
    settings.sms_delivery = mode  # type: ignore[assignment]
    yield
    settings.sms_delivery = before


@pytest.fixture
def demo_outbox() -> Iterator[None]:
    """The portal's texts go to the development/demo outbox (kept, never sent): tests read codes there."""
    yield from _delivery("outbox")


@pytest.fixture
def smpp_delivery() -> Iterator[None]:
    """The portal's texts are queued for the SMPP ESME (the default, made explicit)."""
    yield from _delivery("smpp")


@pytest.fixture
def http_delivery() -> Iterator[None]:
    yield from _delivery("http")


# FailingWriter (re-exported) and the broken_ledger fixture: tests/ledger/reads.py, tests/conftest.py


# The portal over HTTP, and the SMS outbox it writes.

def csrf(client: httpx.Client, path: str = "/citizen/portal/register") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def start_registration(client: httpx.Client, person: dict[str, Any]) -> None:
    details = {k: person[k] for k in ("personal_id", "full_name", "date_of_birth", "phone")}
    sent = client.post("/citizen/portal/register", data={**details, "csrf": csrf(client)})
    assert (sent.status_code, sent.headers["location"]) == (303, "/citizen/portal/code")


PASSWORD = "mat-khau-rat-dai-2026"


def register_account(client: httpx.Client, database: Database, person: dict[str, Any]) -> None:
    """A portal account over HTTP: details, the code texted to the registered phone, a password — signed in."""
    start_registration(client, person)
    assert enter_code(client, code_in(outbox_rows(database, person["phone"])[-1].text)).status_code == 303
    done = client.post("/citizen/portal/password", data={"password": PASSWORD, "confirm": PASSWORD,
                                                          "csrf": csrf(client, "/citizen/portal/password")})
    assert done.headers["location"] == "/citizen/portal/me"


def enter_code(client: httpx.Client, code: str) -> httpx.Response:
    return client.post("/citizen/portal/code", data={"code": code, "csrf": csrf(client, "/citizen/portal/code")})


def code_in(message: str) -> str:
    found = re.search(r"\b([0-9]{6})\b", message)
    assert found, message
    return found.group(1)


def outbox_rows(database: Database, phone: str) -> list[Any]:
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT * FROM citizen_sms_outbox WHERE to_number = :p ORDER BY message_id"),
                                 {"p": phone}))


def settled(database: Database, phone: str, status: str, timeout: float = 15) -> Any:
    """The latest outbox row to ``phone`` once it reaches ``status``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = outbox_rows(database, phone)
        if rows and rows[-1].status == status:
            return rows[-1]
        assert time.monotonic() < deadline, [(r.status, r.attempts, r.last_error) for r in rows]
        time.sleep(0.05)


def readable_codes(database: Database, code: str) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM citizen_sms_outbox WHERE text LIKE :c"),
                                {"c": f"%{code}%"}).scalar_one())
