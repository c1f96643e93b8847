"""SMPP 3.4 against a real third-party SMSC: the npm `smpp` package's server (tests/peers/smsc.js).

The SMSC sends deliver_sm (an SMS from the citizen's phone) to our transceiver ESME; we check the
submit_sm PDUs it gets back: decoded text, data_coding, concatenation headers.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms import replies
from dancu.citizen.sms.gateway import SmppGateway
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.writer import LedgerWriter
from tests.citizen.conftest import ledger_rows, make_resident, new_phone

PEERS = Path(__file__).resolve().parents[1] / "peers"
NODE = shutil.which("node")
pytestmark = [
    pytest.mark.skipif(NODE is None, reason="SMSC TEST SKIPPED: `node` is not installed (needed for npm smpp)"),
    pytest.mark.skipif(not (PEERS / "node_modules" / "smpp").exists(),
                       reason="SMSC TEST SKIPPED: run `npm ci --prefix tests/peers` (python3 dev.py test does)"),
]


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

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def smsc() -> Iterator[Smsc]:
    server = Smsc()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(smsc: Smsc, database: Database) -> Iterator[SmppGateway]:
    settings = CitizenSettings(smpp_port=smsc.port, smpp_system_id="dancu-esme", smpp_password="pw")
    url = libpq_url(database.url)
    with LedgerWriter(lambda: psycopg.connect(url)) as writer:
        gateway = SmppGateway(database, writer, settings).start()
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


def test_owner_lookup_comes_back_as_ucs2_segments(smsc: Smsc, gateway: SmppGateway, database: Database) -> None:
    resident = make_resident(database, full_name="Nguyễn Thị Hường Thuỷ Tiên Phương")
    smsc.deliver("84" + resident["phone"][1:], f"dc {resident['personal_id']}")
    first = smsc.wait("submit_sm")
    parts = [first, *smsc.replies(first_total(first) - 1)]
    text = _text(parts)
    assert resident["full_name"] in text and "cước viễn thông" in text
    assert all(p["data_coding"] == 8 for p in parts) and len(parts) >= 2
    assert all(len(p["message"]) <= 67 for p in parts)
    _concatenated(parts)
    assert parts[0]["destination_addr"] == "84" + resident["phone"][1:] and parts[0]["source_addr"] == "8288"
    assert smsc.wait("deliver_sm_resp")["command_status"] == 0
    assert [e.result for e in ledger_rows(database, resident["personal_id"], "citizen_sms")] == ["answered"]


def first_total(pdu: dict[str, Any]) -> int:
    return bytes.fromhex(pdu["udh"][0])[3] if pdu["udh"] else 1  # IEI, length, reference, total, index


def test_wrong_number_gets_the_neutral_reply(smsc: Smsc, gateway: SmppGateway, database: Database) -> None:
    resident = make_resident(database)
    smsc.deliver(new_phone(), f"DC {resident['personal_id']}")
    first = smsc.wait("submit_sm")
    parts = [first, *smsc.replies(first_total(first) - 1)]
    assert _text(parts) == replies.NEUTRAL
    assert [e.result for e in ledger_rows(database, resident["personal_id"], "citizen_sms")] == ["refused"]


def test_help_without_marks_is_still_answered(smsc: Smsc, gateway: SmppGateway) -> None:
    smsc.deliver(new_phone(), "huong dan")
    first = smsc.wait("submit_sm")
    parts = [first, *smsc.replies(first_total(first) - 1)]
    assert _text(parts) == replies.HELP
