"""``dancu citizen smpp`` as a real process against the npm `smpp` SMSC: bind with the configured identity,
answer a deliver_sm with submit_sm, keep the link alive, bind again after the SMSC restarts, unbind and exit
on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dancu.citizen.sms.runner import backoff
from dancu.db import Database
from tests.citizen.conftest import ledger_rows, make_resident
from tests.citizen.test_sms_smpp import Smsc, first_total, pytestmark  # noqa: F401 — same skip reasons

DANCU = Path(sys.executable).parent / "dancu"


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(n, 60) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff(10_000, 5) == 5


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    server = Smsc()
    yield server
    if server.process.poll() is None:
        server.stop()


def _runner(database: Database, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DANCU_DATABASE_URL": database.url, "DANCU_LOG_JSON": "true",
           "DANCU_CITIZEN_SMPP_HOST": "127.0.0.1", "DANCU_CITIZEN_SMPP_PORT": str(port),
           "DANCU_CITIZEN_SMPP_SYSTEM_ID": "dancu-runner", "DANCU_CITIZEN_SMPP_PASSWORD": "pw-run1",
           "DANCU_CITIZEN_SMPP_SYSTEM_TYPE": "VMA", "DANCU_CITIZEN_SMPP_SOURCE_ADDR": "8288",
           "DANCU_CITIZEN_SMPP_ENQUIRE_LINK_S": "1", "DANCU_CITIZEN_SMPP_RECONNECT_MAX_S": "1"}
    return subprocess.Popen([str(DANCU), "citizen", "smpp"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _lookup(smsc: Smsc, phone: str, personal_id: str) -> str:
    smsc.deliver("84" + phone[1:], f"DC {personal_id}")
    first = smsc.wait("submit_sm", timeout=20)
    parts = [first, *smsc.replies(first_total(first) - 1)]
    assert {p["source_addr"] for p in parts} == {"8288"}
    return "".join(p["message"] for p in parts)


def test_the_runner_serves_reconnects_and_stops(smsc: Smsc, database: Database) -> None:
    person = make_resident(database, full_name="Trần Thị Ánh")
    runner = _runner(database, smsc.port)
    try:
        bind = smsc.wait("bind_transceiver", timeout=30)
        assert (bind["system_id"], bind["password"], bind["system_type"]) == ("dancu-runner", "pw-run1", "VMA")
        assert "Trần Thị Ánh" in _lookup(smsc, person["phone"], person["personal_id"])
        smsc.wait("enquire_link", timeout=10)

        port = smsc.port
        smsc.stop()  # the SMSC goes away; the runner must bind again to its successor
        successor = Smsc(port)
        try:
            successor.wait("bind_transceiver", timeout=30)
            assert "Trần Thị Ánh" in _lookup(successor, person["phone"], person["personal_id"])
            runner.send_signal(signal.SIGTERM)
            successor.wait("unbind", timeout=10)
            assert runner.wait(timeout=15) == 0
        finally:
            successor.stop()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert runner.stderr is not None
    logs = runner.stderr.read().decode()
    assert "SMPP session lost" in logs and "SMPP runner stopped" in logs
    assert person["personal_id"] not in logs and person["phone"][1:] not in logs
    assert [e.result for e in ledger_rows(database, person["personal_id"], "citizen_sms")] == ["answered"] * 2
