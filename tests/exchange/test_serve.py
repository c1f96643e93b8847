"""``dancu serve --workers 2`` as deployed: a real process tree on the test database, each worker on its own
``SO_REUSEPORT`` socket (Linux), connections spread over both, a killed worker replaced, SIGHUP replacing every
worker, SIGTERM a clean stop, logs in JSON, one rate limit for the whole server."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from dancu.db import Database
from dancu.server import REUSE_PORT, connections_per_process, worker_pids
from tests.exchange.helpers import PURPOSE, grant, onboard, resident

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or REUSE_PORT is None,
                                reason="per-worker SO_REUSEPORT sockets are the Linux path")
DANCU = Path(sys.executable).with_name("dancu")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        return worker_pids(self.process.pid)

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


def _until(condition: object, what: str, seconds: float = 60) -> None:
    """Poll ``condition`` (a callable) until true; a bound against hanging, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def _serve(database: Database, tmp_path: Path, port: int, log_name: str = "serve.log") -> Served:
    env = {**os.environ, "DANCU_DATABASE_URL": database.url, "DANCU_DATA_DIR": str(tmp_path),
           "DANCU_TOKEN_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(), "DANCU_LOG_JSON": "true",
           "DANCU_LOG_LEVEL": "INFO"}
    log = tmp_path / log_name
    with log.open("wb") as out:
        process = subprocess.Popen([str(DANCU), "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--workers", "2"], env=env, stdout=out, stderr=out, start_new_session=True)
    return Served(process, port, log)


@pytest.fixture
def served(database: Database, tmp_path: Path) -> Iterator[Served]:
    server = _serve(database, tmp_path, _free_port())
    try:
        _until(lambda: len(server.workers()) == 2 and httpx.get(f"{server.base}/healthz").status_code == 200,
               "two workers serving")
        yield server
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


def _open(port: int, count: int) -> list[socket.socket]:
    """``count`` kept-alive connections, each having had one answer (so a worker has accepted it)."""
    conns = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port))
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        conns.append(conn)
    return conns


def test_each_worker_listens_on_its_own_socket_and_gets_its_share(served: Served) -> None:
    workers = served.workers()
    listening = {pid: _listening_inodes(pid, served.port) for pid in workers}
    assert all(len(inodes) == 1 for inodes in listening.values()), listening
    assert len(set().union(*listening.values())) == 2  # two sockets, not one shared
    conns = _open(served.port, 64)
    try:
        spread = connections_per_process(served.port, workers)
        assert sum(spread.values()) == 64, spread
        # a hash over 64 connections: both get a share (one shared socket gave 7 and 57 on the benchmark);
        # below 12 of 64 happens about once in a hundred thousand runs
        assert min(spread.values()) >= 12, spread
    finally:
        for conn in conns:
            conn.close()


def _listening_inodes(pid: int, port: int) -> set[str]:
    listening = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
            listening.add(fields[9])
    held = set()
    for fd in os.scandir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(fd.path)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in listening:
            held.add(target[8:-1])
    return held


def test_a_killed_worker_is_replaced_sighup_replaces_all_and_sigterm_stops_cleanly(served: Served) -> None:
    first, second = served.workers()
    os.kill(first, signal.SIGKILL)
    _until(lambda: len(served.workers()) == 2 and first not in served.workers(), "a replacement worker")
    replacement = next(pid for pid in served.workers() if pid != second)
    _until(lambda: any(r.get("msg") == "worker serving" and r.get("pid") == replacement for r in served.records()),
           "the replacement serving")
    conns = _open(served.port, 32)  # both sockets answer again: none of the 32 waits on a dead worker
    for conn in conns:
        conn.close()

    before = set(served.workers())
    served.process.send_signal(signal.SIGHUP)  # every worker replaced, one after another
    _until(lambda: len(served.workers()) == 2 and not before & set(served.workers()), "both workers replaced")
    fresh = served.workers()
    _until(lambda: {r.get("pid") for r in served.records() if r.get("msg") == "worker serving"} >= set(fresh),
           "the replacements serving")
    assert not any(r["msg"] == "worker exited; replacing it" and r["pid"] in before for r in served.records())
    for conn in _open(served.port, 32):
        conn.close()

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0
    records = served.records()  # every line of the supervisor and the workers is a JSON object
    messages = [r["msg"] for r in records]
    assert "stopping" in messages and messages[-1] == "stopped"
    assert any(r["msg"] == "worker exited; replacing it" and r["pid"] == first and r["exitcode"] == -signal.SIGKILL
               for r in records)
    assert not served.workers()


def test_a_port_in_use_is_refused_not_shared(served: Served, database: Database, tmp_path: Path) -> None:
    second = _serve(database, tmp_path, served.port, "second.log")
    try:
        assert second.process.wait(timeout=60) == 3
    finally:
        if second.process.poll() is None:
            os.killpg(second.process.pid, signal.SIGKILL)
    assert any(r["msg"] == "cannot listen" for r in second.records())
    assert httpx.get(f"{served.base}/healthz").status_code == 200


def _verify_request(port: int, token: str, personal_id: str) -> bytes:
    body = orjson.dumps({"personal_id": personal_id, "purpose": PURPOSE, "sex": "1"})
    return (f"POST /exchange/v1/verify HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def _status(conn: socket.socket) -> int:
    """The status of the one answer due on ``conn`` (read whole: head, then Content-Length bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += conn.recv(65536)
    return int(head[9:12])


def _burst(served: Served, token: str, personal_id: str, per_worker: int) -> tuple[int, float, dict[int, int]]:
    """One verify on each of enough new connections that every worker holds at least ``per_worker`` of them
    (the kernel hashes connections over the workers), all sent at once: (answers 200, seconds, spread)."""
    conns: list[socket.socket] = []
    try:
        while True:
            conns += _open(served.port, 4)
            spread = connections_per_process(served.port, served.workers())
            if len(spread) == 2 and min(spread.values()) >= per_worker:
                break
            assert len(conns) < 200, spread
        request = _verify_request(served.port, token, personal_id)
        started = time.monotonic()
        for conn in conns:
            conn.sendall(request)
        statuses = [_status(conn) for conn in conns]
        elapsed = time.monotonic() - started
    finally:
        for conn in conns:
            conn.close()
    assert set(statuses) <= {200, 429}, statuses
    return statuses.count(200), elapsed, spread


def test_a_systems_rate_holds_for_the_whole_server_not_for_each_worker(served: Served,
                                                                     operator_tokens: dict[str, str]) -> None:
    """A rate of 1 a second and a burst over both workers: a bucket per worker would admit one request on each
    (two); the one shared bucket admits one, plus one for every whole second the burst took.  A burst is a few
    dozen requests (tens of milliseconds); one that took a second or more could not tell the two apart, so it
    is tried again with a new system."""
    with httpx.Client(base_url=served.base, timeout=30) as http:
        person = resident(http, sex="1")["personal_id"]
        for _ in range(3):
            system = onboard(http, grant(rate_per_second=1, daily_quota=100_000))
            admitted, elapsed, spread = _burst(served, system.token(http), person, per_worker=2)
            assert 1 <= admitted <= 1 + int(elapsed), (admitted, elapsed, spread)
            if elapsed < 1:
                break


def test_a_systems_daily_quota_holds_for_the_whole_server_not_for_each_worker(served: Served,
                                                                            operator_tokens: dict[str, str]) -> None:
    """A quota of 3 and a burst of at least 4 verifies on each worker: counted per worker it admitted 3 on each
    (6); counted in the table both workers share, 3 in all.  Per worker, a flush between the two workers'
    requests (once a second) could bring the count down to 3 too, so a burst that took a second or more is
    tried again with a new system."""
    with httpx.Client(base_url=served.base, timeout=30) as http:
        person = resident(http, sex="1")["personal_id"]
        for _ in range(3):
            system = onboard(http, grant(rate_per_second=1_000, daily_quota=3))
            admitted, elapsed, spread = _burst(served, system.token(http), person, per_worker=4)
            assert admitted == 3, (admitted, elapsed, spread)
            if elapsed < 1:
                break
