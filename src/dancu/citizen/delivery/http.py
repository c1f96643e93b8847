"""The outbox's HTTP channel: texts go to an SMS aggregator's API (``dancu citizen deliver``).

Each text is one ``POST`` to ``DANCU_CITIZEN_SMS_HTTP_URL`` with the JSON body
``{"message_id": "dancu-<id>", "from": <short code>, "to": <number, 84…>, "text": <text>}``, the headers
``X-Dancu-Timestamp`` / ``X-Dancu-Signature`` (HMAC-SHA256 of ``<timestamp>.<body>`` with
``DANCU_CITIZEN_SMS_HTTP_SECRET``, :mod:`dancu.citizen.signing`, the scheme of the inbound webhook) and
``Idempotency-Key: dancu-<id>`` (the same on every retry of the text, so a gateway that honours it sends it once).
A 2xx accepts it (the gateway's id taken from ``message_id`` or ``id`` of a JSON answer); 408, 425, 429, 5xx,
a timeout or a refused connection are retried with backoff; any other status refuses it for good.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from dancu.citizen import signing
from dancu.citizen.clock import Clock, system_clock
from dancu.citizen.delivery import service
from dancu.citizen.delivery.service import Claimed, international
from dancu.citizen.settings import CitizenSettings
from dancu.db import Database

log = logging.getLogger(__name__)
CHANNEL = "http"
RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    provider_id: str = ""
    error: str = ""
    permanent: bool = False


def _provider_id(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return str(body.get("message_id") or body.get("id") or "")
    return ""


class HttpChannel:
    def __init__(self, database: Database, settings: CitizenSettings, client: httpx.Client | None = None,
                 clock: Clock = system_clock) -> None:
        if not settings.sms_http_url or settings.sms_http_secret is None:
            raise ValueError("DANCU_CITIZEN_SMS_HTTP_URL and DANCU_CITIZEN_SMS_HTTP_SECRET are needed")
        self._database = database
        self._settings = settings
        self._url = settings.sms_http_url
        self._secret = settings.sms_http_secret.get_secret_value()
        self._client = client or httpx.Client(timeout=settings.sms_http_timeout_s)
        self._clock = clock

    def post(self, message: Claimed) -> Outcome:
        key = f"dancu-{message.message_id}"
        body = json.dumps({"message_id": key, "from": self._settings.sms_short_code, "to": international(message.to)[0],
                           "text": message.text}, ensure_ascii=False).encode()
        headers = {"content-type": "application/json", "idempotency-key": key,
                   **signing.headers(self._secret, body, self._clock())}
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Outcome(False, error=type(error).__name__)
        if response.is_success:
            return Outcome(True, provider_id=_provider_id(response) or f"http-{response.status_code}")
        transient = response.status_code in RETRY_STATUSES or response.status_code >= 500
        return Outcome(False, error=f"http {response.status_code}", permanent=not transient)

    def drain_once(self) -> int:
        """Claim the due texts, post each, record each outcome (one transaction each); how many were tried."""
        with self._database.sessions.begin() as session:
            claimed = service.claim(session, CHANNEL, self._settings, self._clock(), self._settings.sms_delivery_batch)
        for message in claimed:
            outcome = self.post(message)
            with self._database.sessions.begin() as session:
                if outcome.accepted:
                    service.delivered(session, message, outcome.provider_id, self._clock())
                    status = "sent"
                else:
                    status = service.refused(session, message, outcome.error, self._settings, self._clock(),
                                             permanent=outcome.permanent)
            log.info("SMS delivery attempt", extra={"outbox_id": message.message_id, "attempt": message.attempts,
                                                    "outcome": status, "error": outcome.error or None})
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; a database failure is logged and tried again at the next poll."""
        while not stop.is_set():
            try:
                busy = self.drain_once()
            except Exception as error:
                log.warning("SMS outbox not drained", extra={"error": type(error).__name__})
                busy = 0
            if not busy:
                stop.wait(self._settings.sms_delivery_poll_s)

    def close(self) -> None:
        self._client.close()
