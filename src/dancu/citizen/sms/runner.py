"""``dancu citizen smpp``: keep an ESME bound to the SMSC and answer look-ups until told to stop.

Binds, serves (enquire_link keep-alives), and when the session is lost — refused connection, SMSC closed
it, bind refused, no answer to keep-alives — binds again after 1, 2, 4 … seconds (capped at
``smpp_reconnect_max_s``; back to 1 after a successful bind). ``stop()`` (SIGTERM, SIGINT) ends the
current session with unbind and returns from ``run``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import smpplib.exceptions

from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms.gateway import SmppGateway
from dancu.db import Database

log = logging.getLogger(__name__)
LOST = (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError)


def backoff(attempt: int, cap: float) -> float:
    """Seconds to wait before reconnection attempt ``attempt`` (1, 2, 4 … up to ``cap``)."""
    return float(min(cap, 2 ** min(attempt, 30)))


class SmppRunner:
    def __init__(self, database: Database, ledger: Any, settings: CitizenSettings,
                 gateway: Callable[[], SmppGateway] | None = None) -> None:
        self._settings = settings
        self._gateway = gateway or (lambda: SmppGateway(database, ledger, settings))
        self._stop = threading.Event()
        self.binds = 0

    def stop(self, *_: object) -> None:
        """Ask ``run`` to unbind and return (safe from a signal handler)."""
        self._stop.set()

    def run(self) -> None:
        failures = 0
        where = f"{self._settings.smpp_host}:{self._settings.smpp_port}"
        while not self._stop.is_set():
            gateway = self._gateway()
            try:
                gateway.bind()
                self.binds, failures = self.binds + 1, 0
                log.info("SMPP bound as ESME", extra={"smsc": where, "system_id": self._settings.smpp_system_id})
                gateway.serve(self._stop)
            except LOST as error:
                log.warning("SMPP session lost", extra={"smsc": where, "error": type(error).__name__})
            finally:
                gateway.close(unbind=True)
            if not self._stop.is_set():
                wait = backoff(failures, self._settings.smpp_reconnect_max_s)
                failures += 1
                log.info("SMPP reconnecting", extra={"smsc": where, "in_s": wait})
                self._stop.wait(wait)
        log.info("SMPP runner stopped", extra={"smsc": where})
