"""``dancu up`` on the embedded default, stopped with SIGTERM (systemd, docker, a supervisor): it stops gracefully
and takes the embedded PostgreSQL down with it — uvicorn re-raises the signal after its shutdown, which under
Python's default handler ended the process without ``atexit`` and left the database server running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_sigterm_stops_dancu_up_and_its_embedded_postgres(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCU_")}
    env |= {"DANCU_DATA_DIR": str(tmp_path / "data"), "DANCU_LOG_LEVEL": "WARNING"}
    up = subprocess.Popen([str(Path(sys.executable).with_name("dancu")), "up", "--residents", "50", "--port",
                           str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and up.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert up.poll() is None, up.stdout.read() if up.stdout else b""
        postmaster = int((tmp_path / "data" / "pg" / "postmaster.pid").read_text().split()[0])
        assert _alive(postmaster)
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        while _alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(postmaster), "the embedded PostgreSQL outlived dancu up"
    finally:
        if up.poll() is None:
            up.kill()
