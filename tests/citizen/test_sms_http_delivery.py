"""The outbox's HTTP channel against an aggregator's API served over real HTTP (a local server standing in for
the aggregator): the portal's code reaches it signed (timestamp + body, HMAC-SHA256), a 503 is retried with the
same idempotency key after a backoff, a 400 fails the text for good, an unreachable gateway is retried; every
settled row keeps no text; ``dancu citizen deliver`` as a process delivers and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from dancu.citizen import signing
from dancu.citizen.delivery.http import HttpChannel
from dancu.citizen.delivery.service import international
from dancu.citizen.settings import CitizenSettings
from dancu.db import Database
from tests.citizen.conftest import code_in, enter_code, make_resident, outbox_rows, settled, start_registration

SECRET = "aggregator-shared-secret"
pytestmark = pytest.mark.usefixtures("http_delivery")


@dataclass
class Aggregator:
    """Answers each POST with the next scripted status (200 when the script is spent) and keeps what it got."""

    script: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def to(self, number: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["body"]["to"] == number]


@pytest.fixture
def aggregator() -> Iterator[Aggregator]:
    state = Aggregator()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            timestamp, signature = self.headers["x-dancu-timestamp"], self.headers["x-dancu-signature"]
            good = (signing.valid(SECRET, timestamp, body, signature)
                    and signing.fresh(timestamp, datetime.now(UTC), 300))
            status = (state.script.pop(0) if state.script else 200) if good else 401
            state.received.append({"body": json.loads(body), "headers": dict(self.headers), "signed": good,
                                   "status": status})
            answer = json.dumps({"message_id": f"agg-{len(state.received)}"}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def deliverer(aggregator: Aggregator, database: Database) -> Iterator[HttpChannel]:
    """``dancu citizen deliver``'s loop, in a thread."""
    settings = CitizenSettings(sms_http_url=aggregator.url, sms_http_secret=SECRET, sms_delivery_poll_s=0.05,
                               sms_delivery_backoff_s=0.2, sms_delivery_attempts=3)
    channel, stop = HttpChannel(database, settings), threading.Event()
    worker = threading.Thread(target=channel.run, args=(stop,), daemon=True)
    worker.start()
    yield channel
    stop.set()
    worker.join(timeout=10)
    channel.close()


def test_a_code_reaches_the_aggregator_signed_and_a_503_is_retried(
        aggregator: Aggregator, deliverer: HttpChannel, http: httpx.Client, database: Database) -> None:
    person = make_resident(database)
    aggregator.script = [503]
    start_registration(http, person)
    row = settled(database, person["phone"], "sent")
    number = international(person["phone"])[0]
    first, second = aggregator.to(number)
    assert [first["status"], second["status"]] == [503, 200] and first["signed"] and second["signed"]
    assert first["body"] == second["body"] and first["body"]["from"] == "8288"
    key = f"dancu-{row.message_id}"
    assert first["body"]["message_id"] == key and first["headers"]["idempotency-key"] == key == \
        second["headers"]["idempotency-key"]
    assert (row.attempts, row.provider_message_id, row.text) == (2, f"agg-{aggregator.received.index(second) + 1}",
                                                                 None)
    coded = enter_code(http, code_in(second["body"]["text"]))
    assert coded.headers["location"] == "/citizen/portal/password"


def test_a_refused_text_fails_at_once(aggregator: Aggregator, deliverer: HttpChannel, http: httpx.Client,
                                      database: Database) -> None:
    person = make_resident(database)
    aggregator.script = [400]
    start_registration(http, person)
    row = settled(database, person["phone"], "failed")
    assert (row.attempts, row.last_error, row.text) == (1, "http 400", None)
    time.sleep(0.5)
    assert len(aggregator.to(international(person["phone"])[0])) == 1


def test_an_unreachable_gateway_is_retried_until_the_attempts_are_spent(http: httpx.Client,
                                                                         database: Database) -> None:
    person = make_resident(database)
    start_registration(http, person)
    settings = CitizenSettings(sms_http_url="http://127.0.0.1:9/", sms_http_secret=SECRET, sms_delivery_attempts=2,
                               sms_delivery_backoff_s=0.1)
    channel = HttpChannel(database, settings)
    try:
        deadline = time.monotonic() + 10
        while outbox_rows(database, person["phone"])[-1].status != "failed" and time.monotonic() < deadline:
            channel.drain_once()
            time.sleep(0.05)
    finally:
        channel.close()
    row = outbox_rows(database, person["phone"])[-1]
    assert (row.status, row.attempts, row.last_error, row.text) == ("failed", 2, "ConnectError", None)


def test_dancu_citizen_deliver_runs_until_sigterm(aggregator: Aggregator, http: httpx.Client,
                                                  database: Database) -> None:
    person = make_resident(database)
    env = {**os.environ, "DANCU_DATABASE_URL": database.url, "DANCU_LOG_JSON": "true",
           "DANCU_CITIZEN_SMS_HTTP_URL": aggregator.url, "DANCU_CITIZEN_SMS_HTTP_SECRET": SECRET,
           "DANCU_CITIZEN_SMS_DELIVERY_POLL_S": "0.1"}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "dancu"), "citizen", "deliver"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        start_registration(http, person)
        row = settled(database, person["phone"], "sent", timeout=30)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    [request] = aggregator.to(international(person["phone"])[0])
    assert request["signed"] and row.provider_message_id == f"agg-{aggregator.received.index(request) + 1}"
    assert worker.stderr is not None
    logs = worker.stderr.read().decode()
    assert code_in(request["body"]["text"]) not in logs and person["phone"][1:] not in logs
