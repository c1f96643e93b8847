"""The outbox's SMPP channel: texts leave as submit_sm through the ESME's bound transceiver session.

Driven by the gateway's one thread (the same that reads the socket, so submit_sm never interleaves with
replies or keep-alives): ``tick`` claims due texts — at most ``sms_delivery_batch`` awaiting their
``submit_sm_resp`` at a time, the SMPP window — and sends each as one or more submit_sm (GSM-7 or UCS-2
segments, concatenated with a UDH, exactly as replies are); ``acknowledged`` is handed every
``submit_sm_resp`` / ``generic_nack`` and settles a text once each of its parts is answered: ``sent`` with
the SMSC's message id(s) when all were accepted, otherwise a retry with backoff (see
:mod:`dancu.citizen.delivery.service`).  A text whose answers never come is left to its lease.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from dancu.citizen.clock import Clock, system_clock
from dancu.citizen.delivery import service
from dancu.citizen.delivery.service import Claimed, international
from dancu.citizen.providers.smpp import submit_pdus
from dancu.citizen.settings import CitizenSettings
from dancu.db import Database

log = logging.getLogger(__name__)
CHANNEL = "smpp"
# command_status values the SMSC may clear by itself: worth retrying (others: the text is refused for good)
TRANSIENT = frozenset({0x08, 0x14, 0x58, 0x64})  # RSYSERR, RMSGQFUL, RTHROTTLED, RX_T_APPN


@dataclass
class _Flight:
    message: Claimed
    started: float
    waiting: set[int] = field(default_factory=set)  # sequence numbers of parts not yet answered
    ids: dict[int, str] = field(default_factory=dict)  # sequence → the SMSC's message id
    errors: list[int] = field(default_factory=list)  # command_status of refused parts


def _text(value: Any) -> str:
    return value.decode("ascii", errors="replace") if isinstance(value, bytes) else str(value or "")


class SmppOutbound:
    def __init__(self, database: Database, settings: CitizenSettings, client: Any, source: str,
                 clock: Clock = system_clock) -> None:
        self._database = database
        self._settings = settings
        self._client = client
        self._source = source
        self._clock = clock
        self._flights: dict[int, _Flight] = {}
        self._by_sequence: dict[int, _Flight] = {}
        self._next_poll = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._flights)

    def tick(self) -> None:
        """Claim and send what is due (every ``sms_delivery_poll_s``); forget texts past their lease.
        A database failure is logged and tried again at the next poll; SMPP failures are raised."""
        now = time.monotonic()
        self._forget(now)
        if now < self._next_poll:
            return
        self._next_poll = now + self._settings.sms_delivery_poll_s
        try:
            with self._database.sessions.begin() as session:
                claimed = service.claim(session, CHANNEL, self._settings, self._clock(),
                                        self._settings.sms_delivery_batch - len(self._flights))
        except Exception as error:
            log.warning("SMS outbox not drained", extra={"error": type(error).__name__})
            return
        for message in claimed:
            self._submit(message)

    def _submit(self, message: Claimed) -> None:
        flight = _Flight(message, time.monotonic())
        self._flights[message.message_id] = flight
        to, ton = international(message.to)
        for pdu in submit_pdus(self._source, to, message.text, dest_addr_ton=ton):
            sent = self._client.send_message(**pdu)
            flight.waiting.add(sent.sequence)
            self._by_sequence[sent.sequence] = flight

    def acknowledged(self, pdu: Any) -> bool:
        """Take a submit_sm_resp or generic_nack; False if it answers no text of the outbox (a reply's)."""
        flight = self._by_sequence.pop(int(pdu.sequence), None)
        if flight is None:
            return False
        flight.waiting.discard(int(pdu.sequence))
        status = int(pdu.status or 0)
        if status or pdu.command != "submit_sm_resp":
            flight.errors.append(status)
        else:
            flight.ids[int(pdu.sequence)] = _text(getattr(pdu, "message_id", ""))
        if not flight.waiting:
            self._settle(flight)
        return True

    def _settle(self, flight: _Flight) -> None:
        self._flights.pop(flight.message.message_id, None)
        message, now = flight.message, self._clock()
        try:
            with self._database.sessions.begin() as session:
                if not flight.errors:
                    service.delivered(session, message, ",".join(flight.ids[s] for s in sorted(flight.ids)), now)
                    log.info("SMS sent", extra={"outbox_id": message.message_id, "attempt": message.attempts})
                    return
                status = flight.errors[0]
                outcome = service.refused(session, message, f"command_status 0x{status:08x}", self._settings, now,
                                          permanent=status not in TRANSIENT)
            log.warning("SMS refused by the SMSC", extra={"outbox_id": message.message_id, "status": status,
                                                          "attempt": message.attempts, "outcome": outcome})
        except Exception as error:  # the lease brings it back
            log.warning("SMS outcome not recorded", extra={"outbox_id": message.message_id,
                                                           "error": type(error).__name__})

    def _forget(self, now: float) -> None:
        """Stop waiting for answers that did not come within the lease; the row is claimed again after it."""
        for flight in [f for f in self._flights.values() if now - f.started > self._settings.sms_delivery_lease_s]:
            self._flights.pop(flight.message.message_id, None)
            for sequence in flight.waiting:
                self._by_sequence.pop(sequence, None)
            log.warning("SMS not acknowledged in time", extra={"outbox_id": flight.message.message_id})
