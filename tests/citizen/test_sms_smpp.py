"""SMPP 3.4 against a real third-party SMSC: the npm `smpp` package's server (tests/peers/smsc.js).

The SMSC sends deliver_sm (an SMS from the citizen's phone) to our transceiver ESME; we check the
submit_sm PDUs it gets back (decoded text, data_coding, concatenation headers), the deliver_sm_resp, and
the exchange-log entries: a look-up by the owner, by a stranger, malformed commands, help, the per-number
rate limit (the "too many" reply once, then silence, a new window; help and malformed texts counted too),
"who used my data" after a real bank verification through the exchange API, and no reply at all (ESME_RSYSERR)
when the exchange log cannot be written.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from dancu.citizen.disclosure import sha256
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms import replies
from dancu.citizen.sms.gateway import ESME_RSYSERR, SmppGateway
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange.ledger_port import unavailable
from dancu.ledger.writer import LedgerWriter
from dancu.registry.domain import normalise_phone
from tests.citizen.conftest import (
    BANK_PURPOSE,
    bank_verification,
    ledger_rows,
    make_resident,
    new_phone,
    window_start,
)

UNKNOWN_ID = "001099000000"

PEERS = Path(__file__).resolve().parents[1] / "peers"
NODE = shutil.which("node")
pytestmark = [
    pytest.mark.skipif(NODE is None, reason="SMSC TEST SKIPPED: `node` is not installed (needed for npm smpp)"),
    pytest.mark.skipif(not (PEERS / "node_modules" / "smpp").exists(),
                       reason="SMSC TEST SKIPPED: run `npm ci --prefix tests/peers` (python3 dev.py test does)"),
]


@dataclass(frozen=True)
class Exchanged:
    parts: list[dict[str, Any]]  # the submit_sm PDUs, in order
    status: int  # command_status of the deliver_sm_resp

    @property
    def text(self) -> str:
        return "".join(p["message"] for p in self.parts)


class Smsc:
    def __init__(self, port: int = 0) -> None:
        assert NODE is not None
        self.process = subprocess.Popen([NODE, str(PEERS / "smsc.js"), str(port)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(self.wait("listening")["port"])

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def wait(self, event: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            item = self.events.get(timeout=timeout)
            if item["event"] == event:
                return item

    def deliver(self, sender: str, message: str) -> None:
        assert self.process.stdin is not None
        command = {"deliver": {"source_addr": sender, "destination_addr": "8288", "text": message}}
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        self.wait("deliver_sm_sent")

    def replies(self, count: int) -> list[dict[str, Any]]:
        return [self.wait("submit_sm") for _ in range(count)]

    def command(self, **command: Any) -> None:
        """``refuse={"status": N, "count": K}`` or ``hold=True|False`` (see tests/peers/smsc.js)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        self.wait("ok")

    def texts_to(self, destination: str, count: int = 1, timeout: float = 15) -> list[dict[str, Any]]:
        """The next ``count`` submit_sm to ``destination`` (others skipped)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            event = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if event["event"] == "submit_sm" and event["destination_addr"] == destination:
                found.append(event)
        return found

    def quiet_for(self, destination: str, seconds: float) -> list[dict[str, Any]]:
        """Every submit_sm to ``destination`` within the next ``seconds`` (an empty list: none came)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event["event"] == "submit_sm" and event["destination_addr"] == destination:
                found.append(event)
        return found

    def exchange(self, sender: str, message: str) -> Exchanged:
        """Deliver one SMS and collect every submit_sm the ESME sends back to ``sender``, up to its
        deliver_sm_resp (smpplib answers a deliver_sm only after its handler returns, i.e. after the replies
        went out); submit_sm to other numbers (outbox texts of other tests) are not part of it."""
        self.deliver(sender, message)
        parts: list[dict[str, Any]] = []
        while True:
            event = self.events.get(timeout=10)
            if event["event"] == "submit_sm" and event["destination_addr"] == sender:
                parts.append(event)
            elif event["event"] == "deliver_sm_resp":
                return Exchanged(parts, int(event["command_status"]))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def smsc() -> Iterator[Smsc]:
    server = Smsc()
    yield server
    server.stop()


class Clock:
    """The gateway's clock: the real time, or a fixed moment while a test holds one."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or datetime.now(UTC)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def gateway(smsc: Smsc, database: Database, clock: Clock) -> Iterator[SmppGateway]:
    settings = CitizenSettings(smpp_port=smsc.port, smpp_system_id="dancu-esme", smpp_password="pw")
    assert (settings.sms_rate_limit, settings.sms_rate_window_s) == (5, 600)  # the documented defaults
    url = libpq_url(database.url)
    with LedgerWriter(lambda: psycopg.connect(url)) as writer:
        gateway = SmppGateway(database, writer, settings, clock=clock).start()
        bind = smsc.wait("bind_transceiver")
        assert (bind["system_id"], bind["password"]) == ("dancu-esme", "pw")
        yield gateway
        gateway.stop()


def _text(pdus: list[dict[str, Any]]) -> str:
    return "".join(p["message"] for p in pdus)


def _concatenated(pdus: list[dict[str, Any]]) -> None:
    """Every part carries the same reference, the total and its own index (UDH IEI 0x00)."""
    headers = [bytes.fromhex(p["udh"][0]) for p in pdus]
    assert all(p["esm_class"] & 0x40 for p in pdus)
    assert {h[2] for h in headers} == {headers[0][2]} and [(h[3], h[4]) for h in headers] == [
        (len(pdus), i) for i in range(1, len(pdus) + 1)]


def _ucs2(reply: Exchanged) -> None:
    """Vietnamese replies go as UCS-2: data_coding 8, ≤ 67 characters per concatenated part, or one ≤ 70."""
    assert reply.parts and all(p["data_coding"] == 8 for p in reply.parts)
    if len(reply.parts) == 1:
        assert len(reply.parts[0]["message"]) <= 70 and not reply.parts[0]["udh"]
    else:
        assert all(len(p["message"]) <= 67 for p in reply.parts)
        _concatenated(reply.parts)


def _logged_for(database: Database, sender: str) -> list[Any]:
    """Every exchange-log entry naming ``sender`` (normalised to 0…) as end user."""
    with database.engine.connect() as conn:
        return list(conn.execute(text("SELECT * FROM ledger_entry WHERE end_user = :u ORDER BY seq"),
                                 {"u": normalise_phone(sender) or sender}))


def test_owner_lookup_comes_back_as_ucs2_segments(smsc: Smsc, gateway: SmppGateway, database: Database) -> None:
    resident = make_resident(database, full_name="Nguyễn Thị Hường Thuỷ Tiên Phương")
    reply = smsc.exchange("84" + resident["phone"][1:], f"dc {resident['personal_id']}")
    assert resident["full_name"] in reply.text and "cước viễn thông" in reply.text
    assert len(reply.parts) >= 2
    _ucs2(reply)
    assert reply.parts[0]["destination_addr"] == "84" + resident["phone"][1:]
    assert reply.parts[0]["source_addr"] == "8288"
    assert reply.status == 0
    [entry] = ledger_rows(database, resident["personal_id"], "citizen_sms")
    assert (entry.result, entry.end_user, entry.client_system) == ("answered", resident["phone"],
                                                                   "VN/GOV/BCA/SMS-GATEWAY")
    assert entry.fields_disclosed == ["full_name", "date_of_birth", "sex", "permanent_province"]


def first_total(pdu: dict[str, Any]) -> int:
    return bytes.fromhex(pdu["udh"][0])[3] if pdu["udh"] else 1  # IEI, length, reference, total, index


def test_wrong_number_gets_the_neutral_reply(smsc: Smsc, gateway: SmppGateway, database: Database) -> None:
    resident = make_resident(database)
    stranger = new_phone()
    wrong = smsc.exchange(stranger, f"DC {resident['personal_id']}")
    unknown = smsc.exchange(new_phone(), f"DC {UNKNOWN_ID}")
    assert wrong.text == replies.NEUTRAL and wrong.status == 0
    _ucs2(wrong)
    strip = ("destination_addr", "udh", "message_id")  # concatenation references and the SMSC's ids differ
    assert [{k: v for k, v in p.items() if k not in strip} for p in wrong.parts] == [
        {k: v for k, v in p.items() if k not in strip} for p in unknown.parts]
    [entry] = ledger_rows(database, resident["personal_id"], "citizen_sms")
    assert (entry.result, entry.error_code, entry.fields_disclosed, entry.end_user) == (
        "refused", "not_disclosed", [], stranger)


def test_help_without_marks_is_still_answered(smsc: Smsc, gateway: SmppGateway, database: Database) -> None:
    sender = new_phone()
    reply = smsc.exchange(sender, "huong dan")
    assert reply.text == replies.HELP and reply.status == 0
    _ucs2(reply)
    assert _logged_for(database, sender) == []  # nothing was looked up


@pytest.mark.parametrize("message", ["DC 123", "xin chao", "DC LS", "DC TT 0010850123", "dc 001 085 0123456",
                                     "DC XYZ 001085012345", "DC lich su 00108501234a"])
def test_malformed_commands_get_the_help_text_prefixed(smsc: Smsc, gateway: SmppGateway, database: Database,
                                                         message: str) -> None:
    sender = new_phone()
    reply = smsc.exchange(sender, message)
    assert reply.text == replies.MALFORMED and reply.text.startswith("Sai cú pháp. ") and reply.status == 0
    assert reply.text.removeprefix("Sai cú pháp. ") == replies.HELP
    _ucs2(reply)
    assert reply.parts[0]["destination_addr"] == sender
    assert _logged_for(database, sender) == []  # malformed texts look nothing up and are not logged


def test_rate_limit_per_number_through_the_smsc(smsc: Smsc, gateway: SmppGateway, clock: Clock,
                                                database: Database) -> None:
    owner, neighbour = make_resident(database), make_resident(database)
    clock.moment = window_start(datetime.now(UTC)) + timedelta(seconds=1)  # a 10-minute window opens
    try:
        lookups = [smsc.exchange(owner["phone"], f"DC {owner['personal_id']}") for _ in range(5)]
        assert all(owner["full_name"] in r.text for r in lookups)
        clock.moment += timedelta(seconds=590)  # still the same 10-minute window
        too_many = smsc.exchange(owner["phone"], f"DC {owner['personal_id']}")
        assert too_many.text == replies.RATE_LIMITED and too_many.status == 0
        _ucs2(too_many)
        silent = [smsc.exchange(owner["phone"], f"DC LS {owner['personal_id']}") for _ in range(2)]
        assert [(r.parts, r.status) for r in silent] == [([], 0)] * 2  # accepted (no retry), no reply at all
        other = smsc.exchange(neighbour["phone"], f"DC {neighbour['personal_id']}")  # another number: its own limit
        assert neighbour["full_name"] in other.text
        clock.moment += timedelta(seconds=9)  # the next window
        again = smsc.exchange(owner["phone"], f"DC {owner['personal_id']}")
        assert owner["full_name"] in again.text
    finally:
        clock.moment = None
    entries = ledger_rows(database, owner["personal_id"], "citizen_sms")
    assert [(e.result, e.error_code) for e in entries] == (
        [("answered", None)] * 5 + [("refused", "rate_limited")] * 3 + [("answered", None)])
    assert all(e.end_user == owner["phone"] for e in entries)
    assert [e.fields_disclosed for e in entries[5:8]] == [[], [], []]
    assert entries[5].response_hash == sha256(replies.RATE_LIMITED) and entries[6].response_hash == sha256("")
    assert [(e.result, e.end_user) for e in ledger_rows(database, neighbour["personal_id"], "citizen_sms")] == [
        ("answered", neighbour["phone"])]


def test_who_used_my_data_lists_a_real_bank_verification(smsc: Smsc, gateway: SmppGateway, live_server: str,
                                                         database: Database) -> None:
    person = make_resident(database)
    assert smsc.exchange(person["phone"], f"DC {person['personal_id']}").status == 0  # own look-up: left out
    bank = bank_verification(live_server, person)
    reply = smsc.exchange(person["phone"], f"dc lich su {person['personal_id']}")
    _ucs2(reply)
    assert "được sử dụng 1 lần" in reply.text and f"{bank.organisation} ({BANK_PURPOSE})" in reply.text
    [_, history] = ledger_rows(database, person["personal_id"], "citizen_sms")
    assert (history.result, history.fields_disclosed) == ("answered", ["access_history"])


def test_help_and_malformed_texts_count_against_the_limit(smsc: Smsc, gateway: SmppGateway, clock: Clock,
                                                          database: Database) -> None:
    """Each help or malformed text costs a multi-part UCS-2 reply: past the per-number limit they get
    "too many" once, then silence, like look-ups — and a look-up after them is refused too."""
    person = make_resident(database)
    clock.moment = window_start(datetime.now(UTC)) + timedelta(seconds=1)
    try:
        answered = [smsc.exchange(person["phone"], t) for t in ("DC HD", "xin chao", "HELP", "DC 123", "dc")]
        assert [r.text for r in answered] == [replies.HELP, replies.MALFORMED, replies.HELP, replies.MALFORMED,
                                              replies.HELP]
        assert all(len(r.parts) >= 2 for r in answered)  # each is several UCS-2 segments
        too_many = smsc.exchange(person["phone"], "DC HD")
        assert too_many.text == replies.RATE_LIMITED and too_many.status == 0
        silent = [smsc.exchange(person["phone"], t) for t in ("huong dan", "DC XYZ", f"DC {person['personal_id']}")]
        assert [(r.parts, r.status) for r in silent] == [([], 0)] * 3
        clock.moment += timedelta(seconds=600)  # the next window
        assert smsc.exchange(person["phone"], "DC HD").text == replies.HELP
    finally:
        clock.moment = None
    assert [(e.result, e.error_code) for e in ledger_rows(database, person["personal_id"], "citizen_sms")] == [
        ("refused", "rate_limited")]  # only the look-up is an exchange


class _BrokenLedger:
    """A LedgerWriter whose every append fails, as a broken commit would."""

    def append(self, entry: Any) -> Any:
        raise unavailable()


def test_no_reply_when_the_exchange_log_cannot_be_written(database: Database) -> None:
    """The deliver_sm is refused with ESME_RSYSERR (the SMSC will retry it) and no submit_sm leaves."""
    server = Smsc()
    broken = SmppGateway(database, _BrokenLedger(), CitizenSettings(smpp_port=server.port)).start()
    try:
        server.wait("bind_transceiver")
        person = make_resident(database)
        for command in (f"DC {person['personal_id']}", f"DC LS {person['personal_id']}", f"DC {UNKNOWN_ID}"):
            refused = server.exchange(person["phone"], command)
            assert (refused.parts, refused.status) == ([], ESME_RSYSERR)
        helped = server.exchange(person["phone"], "DC HD")  # help looks nothing up: still answered
        assert helped.text == replies.HELP and helped.status == 0
    finally:
        broken.stop()
        server.stop()
    assert ledger_rows(database, person["personal_id"], "citizen_sms") == []
