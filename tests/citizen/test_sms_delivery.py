"""The portal's one-time codes leave by SMS: the transactional outbox, drained through the bound SMPP session of
the ESME, against the npm `smpp` SMSC (tests/peers/smsc.js).

Registration goes through the real portal over HTTP (its transaction writes the text); the code is read from
the submit_sm the SMSC received, and it is the one that completes the registration.  The outbox row ends
``sent`` with the SMSC's message id and no text.  Also: a throttled submit_sm retried after a backoff, a
refused one failed for good, an expired code never sent, a code committed while the ESME was down (killed)
sent exactly once when it binds again and not again after a further restart, and a text held by an ESME
killed before the SMSC answered it sent again once its lease ended (delivery is at least once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from dancu.citizen.delivery.service import international
from dancu.citizen.providers.outbox import QueuedProvider
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms.gateway import SmppGateway
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.writer import LedgerWriter
from tests.citizen.conftest import (
    code_in,
    enter_code,
    make_resident,
    new_phone,
    outbox_rows,
    readable_codes,
    settled,
    start_registration,
)
from tests.citizen.test_sms_smpp import Smsc
from tests.citizen.test_sms_smpp import pytestmark as smsc_marks

DANCU = Path(sys.executable).parent / "dancu"
THROTTLED, BAD_DESTINATION = 0x58, 0x0B
pytestmark = [*smsc_marks, pytest.mark.usefixtures("smpp_delivery")]


# --- an ESME in this process ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smsc() -> Iterator[Smsc]:
    server = Smsc()
    yield server
    server.stop()


@pytest.fixture  # one per test: no ESME of this process may drain the outbox while the process tests run
def gateway(smsc: Smsc, database: Database) -> Iterator[SmppGateway]:
    settings = CitizenSettings(smpp_port=smsc.port, sms_delivery_poll_s=0.1, sms_delivery_backoff_s=0.3,
                               sms_delivery_lease_s=10)
    with LedgerWriter(lambda: psycopg.connect(libpq_url(database.url))) as writer:
        gateway = SmppGateway(database, writer, settings).start()
        smsc.wait("bind_transceiver")
        yield gateway
        gateway.stop()


def test_a_code_goes_out_as_submit_sm_and_its_sent_row_keeps_no_code(
        smsc: Smsc, gateway: SmppGateway, http: httpx.Client, database: Database) -> None:
    person = make_resident(database)
    start_registration(http, person)
    [pdu] = smsc.texts_to(international(person["phone"])[0])
    assert (pdu["source_addr"], pdu["dest_addr_ton"], pdu["data_coding"], pdu["udh"]) == ("8288", 1, 0, [])
    assert pdu["message"].startswith("Ma xac thuc Cong tra cuu dan cu: ") and pdu["message_id"]
    code = code_in(pdu["message"])

    row = settled(database, person["phone"], "sent")
    assert (row.text, row.provider_message_id, row.attempts, row.kind, row.channel) == (
        None, pdu["message_id"], 1, "otp:register", "smpp")
    assert row.sent_at is not None and row.last_error is None and row.next_attempt_at is None
    assert readable_codes(database, code) == 0  # the code is in no row of the outbox any more
    coded = enter_code(http, code)  # and it is the code the portal expects
    assert (coded.status_code, coded.headers["location"]) == (303, "/citizen/portal/password")


def test_a_throttled_text_is_sent_again_after_a_backoff(smsc: Smsc, gateway: SmppGateway, http: httpx.Client,
                                                        database: Database) -> None:
    person = make_resident(database)
    smsc.command(refuse={"status": THROTTLED, "count": 1})
    start_registration(http, person)
    refused, accepted = smsc.texts_to(international(person["phone"])[0], count=2)
    assert (refused["command_status"], refused["message_id"]) == (THROTTLED, "")
    assert accepted["command_status"] == 0 and accepted["message"] == refused["message"]
    row = settled(database, person["phone"], "sent")
    assert (row.attempts, row.provider_message_id, row.text, row.last_error) == (2, accepted["message_id"], None,
                                                                                  None)
    assert gateway.outbound.in_flight == 0


def test_a_text_refused_for_good_is_failed_and_blanked(smsc: Smsc, gateway: SmppGateway, http: httpx.Client,
                                                       database: Database) -> None:
    person = make_resident(database)
    smsc.command(refuse={"status": BAD_DESTINATION, "count": 1})
    start_registration(http, person)
    destination = international(person["phone"])[0]
    [refused] = smsc.texts_to(destination)
    row = settled(database, person["phone"], "failed")
    assert (row.text, row.attempts, row.last_error) == (None, 1, "command_status 0x0000000b")
    assert refused["command_status"] == BAD_DESTINATION and smsc.quiet_for(destination, 1.0) == []


def test_a_code_past_its_validity_is_never_sent(smsc: Smsc, gateway: SmppGateway, database: Database) -> None:
    phone = new_phone()
    with database.sessions.begin() as session:
        QueuedProvider("smpp").send(session, phone, "Ma xac thuc: 123456", kind="otp:login",
                                    valid_until=datetime.now(UTC) - timedelta(seconds=1))
    row = settled(database, phone, "expired")
    assert (row.text, row.attempts, row.sent_at) == (None, 0, None)
    assert smsc.quiet_for(international(phone)[0], 0.5) == []


# --- `dancu citizen smpp` as a process, killed and started again ------------------------------------------------------

@pytest.fixture
def own_smsc() -> Iterator[Smsc]:
    server = Smsc()
    yield server
    if server.process.poll() is None:
        server.stop()


class Runner:
    """``dancu citizen smpp`` bound to ``port``; SIGKILL (a crash) or SIGTERM (a stop)."""

    def __init__(self, database: Database, port: int, lease_s: float = 30) -> None:
        env = {**os.environ, "DANCU_DATABASE_URL": database.url, "DANCU_LOG_JSON": "true",
               "DANCU_CITIZEN_SMPP_HOST": "127.0.0.1", "DANCU_CITIZEN_SMPP_PORT": str(port),
               "DANCU_CITIZEN_SMPP_ENQUIRE_LINK_S": "1", "DANCU_CITIZEN_SMPP_RECONNECT_MAX_S": "1",
               "DANCU_CITIZEN_SMS_DELIVERY_POLL_S": "0.1", "DANCU_CITIZEN_SMS_DELIVERY_LEASE_S": str(lease_s)}
        self.process = subprocess.Popen([str(DANCU), "citizen", "smpp"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)

    def crash(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=15) == 0
        assert self.process.stderr is not None
        return self.process.stderr.read().decode()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_a_code_committed_while_the_esme_was_down_is_sent_exactly_once(own_smsc: Smsc, live_server: str,
                                                                        database: Database) -> None:
    person = make_resident(database)
    destination = international(person["phone"])[0]
    with Runner(database, own_smsc.port) as first:
        own_smsc.wait("bind_transceiver", timeout=30)
        first.crash()  # no unbind, nothing flushed: as a crash leaves it
    with httpx.Client(base_url=live_server, timeout=30) as portal:
        start_registration(portal, person)  # committed; nobody to send it
        assert outbox_rows(database, person["phone"])[-1].status == "pending"
        assert own_smsc.quiet_for(destination, 0.5) == []
        with Runner(database, own_smsc.port) as second:
            own_smsc.wait("bind_transceiver", timeout=30)
            [pdu] = own_smsc.texts_to(destination)
            row = settled(database, person["phone"], "sent")
            logs = second.stop()
        code = code_in(pdu["message"])
        assert (row.attempts, row.provider_message_id, row.text) == (1, pdu["message_id"], None)
        assert (enter_code(portal, code).headers["location"]) == "/citizen/portal/password"
    assert code not in logs and person["phone"][1:] not in logs
    with Runner(database, own_smsc.port) as third:  # a restart sends nothing again
        own_smsc.wait("bind_transceiver", timeout=30)
        assert own_smsc.quiet_for(destination, 1.5) == []
        third.stop()
    assert [r.status for r in outbox_rows(database, person["phone"])] == ["sent"]


def test_a_text_held_by_a_killed_esme_is_sent_again_after_its_lease(own_smsc: Smsc, live_server: str,
                                                                    database: Database) -> None:
    person = make_resident(database)
    destination = international(person["phone"])[0]
    own_smsc.command(hold=True)  # the SMSC takes submit_sm and never answers
    with Runner(database, own_smsc.port, lease_s=2) as first, httpx.Client(base_url=live_server) as portal:
        own_smsc.wait("bind_transceiver", timeout=30)
        start_registration(portal, person)
        [held] = own_smsc.texts_to(destination)
        assert held["held"] and outbox_rows(database, person["phone"])[-1].status == "sending"
        first.crash()
    own_smsc.command(hold=False)
    with Runner(database, own_smsc.port, lease_s=2) as second:
        own_smsc.wait("bind_transceiver", timeout=30)
        [again] = own_smsc.texts_to(destination, timeout=20)
        row = settled(database, person["phone"], "sent")
        second.stop()
    assert again["message"] == held["message"] and not again["held"]
    assert (row.attempts, row.provider_message_id, row.text) == (2, again["message_id"], None)
