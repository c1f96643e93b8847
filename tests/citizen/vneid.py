"""The e-ID provider the tests log in through: the npm `oidc-provider` package (tests/peers/vneid.mjs) as a
node process, its users made from synthetic residents, and the portal's settings pointed at it."""

from __future__ import annotations

import json
import queue
import re
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from pydantic import SecretStr

from dancu.citizen.settings import CitizenSettings, get_citizen_settings

PEERS = Path(__file__).resolve().parents[1] / "peers"
NODE = shutil.which("node")
CLIENT_ID = "dancu-portal"
MISSING = ("E-ID TEST SKIPPED: `node` is not installed (needed for npm oidc-provider)" if NODE is None else
           "E-ID TEST SKIPPED: run `npm ci --prefix tests/peers` (python3 dev.py test does)"
           if not (PEERS / "node_modules" / "oidc-provider").exists() else None)
requires_provider = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
OIDC_FIELDS = ("oidc_issuer", "oidc_client_id", "oidc_client_secret", "oidc_redirect_uri")


class Vneid:
    def __init__(self, redirect_uri: str) -> None:
        assert NODE is not None
        self.secret = secrets.token_urlsafe(24)
        config = {"port": 0, "clients": [{"client_id": CLIENT_ID, "client_secret": self.secret,
                                          "redirect_uris": [redirect_uri]}]}
        self.process = subprocess.Popen([NODE, str(PEERS / "vneid.mjs"), json.dumps(config)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.issuer = str(self.wait("listening")["issuer"])

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def wait(self, event: str, timeout: float = 15) -> dict[str, Any]:
        while True:
            item = self.events.get(timeout=timeout)
            if item["event"] == event:
                return item

    def add_user(self, person: dict[str, Any], level: int, sex: str = "female") -> str:
        """A VNeID account for ``person`` at ``level``; its password."""
        password = secrets.token_urlsafe(12)
        user = {"login": person["personal_id"], "password": password, "personal_id": person["personal_id"],
                "name": person["full_name"], "birthdate": person["date_of_birth"], "gender": sex, "level": level}
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"user": user}) + "\n")
        self.process.stdin.flush()
        self.wait("user")
        return password

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def provider_for(live_server: str) -> Iterator[Vneid]:
    """The provider running, and the portal's settings pointed at it (restored afterwards)."""
    settings: CitizenSettings = get_citizen_settings()
    before = {name: getattr(settings, name) for name in OIDC_FIELDS}
    provider = Vneid(f"{live_server}/citizen/portal/eid/callback")
    settings.oidc_issuer, settings.oidc_client_id = provider.issuer, CLIENT_ID
    settings.oidc_client_secret = SecretStr(provider.secret)
    settings.oidc_redirect_uri = f"{live_server}/citizen/portal/eid/callback"
    try:
        yield provider
    finally:
        for name, value in before.items():
            setattr(settings, name, value)
        provider.stop()


def login_over_http(client: httpx.Client, login: str, password: str) -> httpx.Response:
    """Without a browser: start at the portal, sign in at the provider, and stop before the callback.

    The returned response is the provider's redirect to the portal's callback (``code`` and ``state``)."""
    response = client.get("/citizen/portal/eid/start")
    assert response.status_code == 303, response.text
    while True:
        location = urljoin(str(response.url), response.headers["location"])
        if "/citizen/portal/eid/callback" in location:
            return response
        response = client.get(location)
        if response.status_code == 200 and 'name="password"' in response.text:
            action = re.search(r'action="([^"]+)"', response.text)
            assert action
            response = client.post(urljoin(str(response.url), action.group(1)),
                                   data={"login": login, "password": password})
        assert response.status_code in (302, 303), response.text[:500]
