"""The SMPP 3.4 gateway: bound to the operator's SMSC as a transceiver ESME, it answers deliver_sm and
sends the SMS outbox's texts (the portal's one-time codes).

For each inbound SMS: answer it (see service), write the log entry and commit, then send the reply
as submit_sm; a failure to log refuses the deliver_sm (ESME_RSYSERR) so the SMSC retries, and sends nothing.
Between PDUs it drains the outbox (:mod:`dancu.citizen.delivery.smpp`): due texts go out as submit_sm and are
marked sent with the SMSC's message id when their submit_sm_resp comes.
One thread reads and writes the session (``serve``): replies, outbox texts and enquire_link keep-alives never
interleave.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from dancu.citizen.clock import Clock, system_clock
from dancu.citizen.delivery.smpp import SmppOutbound
from dancu.citizen.providers.smpp import SmppProvider
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms import segments
from dancu.citizen.sms.service import Inbound, answer
from dancu.db import Database

log = logging.getLogger(__name__)
ESME_RSYSERR = 0x08
POLL_S = 0.25  # how quickly serve() notices a stop request
SILENT_LINKS = 3  # enquire_link periods without any PDU from the SMSC before the session is given up


class SmscSilent(ConnectionError):
    """No PDU (not even enquire_link_resp) from the SMSC for SILENT_LINKS keep-alive periods."""


def decode_short_message(octets: bytes, data_coding: int, esm_class: int) -> str:
    """The text of an inbound deliver_sm (its UDH, if any, skipped)."""
    if esm_class & 0x40 and octets:
        octets = octets[octets[0] + 1:]
    if data_coding == 0x08:
        return octets.decode("utf-16-be", errors="replace")
    if data_coding == 0x00:
        return segments.decode_gsm7(octets)
    return octets.decode("latin-1")


class SmppGateway:
    def __init__(self, database: Database, ledger: Any, settings: CitizenSettings,
                 clock: Clock = system_clock) -> None:
        self._database = database
        self._clock = clock  # the rate-limit window's clock (tests travel in time with it)
        self._ledger = ledger  # a started LedgerWriter (sync append)
        self._settings = settings
        self._client = smpplib.client.Client(settings.smpp_host, settings.smpp_port, timeout=30,
                                              allow_unknown_opt_params=True)
        source = settings.smpp_source_addr or settings.sms_short_code
        self._provider = SmppProvider(self._client, source)
        self.outbound = SmppOutbound(database, settings, self._client, source)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def bind(self) -> SmppGateway:
        self._client.set_message_received_handler(self._on_pdu)
        self._client.set_message_sent_handler(self._on_sent)
        self._client.set_error_pdu_handler(self._on_error_pdu)
        self._client.connect()
        self._client.bind_transceiver(system_id=self._settings.smpp_system_id, password=self._settings.smpp_password,
                                      system_type=self._settings.smpp_system_type)
        return self

    def serve(self, stop: threading.Event) -> None:
        """Answer PDUs until ``stop`` is set; enquire_link every ``smpp_enquire_link_s`` seconds.

        Raises (smpplib's ConnectionError, OSError, SmscSilent) when the session is lost."""
        interval = self._settings.smpp_enquire_link_s
        last_in = last_link = time.monotonic()
        while not stop.is_set():
            readable, _, _ = select.select([self._client._socket], [], [], POLL_S)
            now = time.monotonic()
            if readable:
                self._client.read_once(auto_send_enquire_link=False)
                last_in = now
            if now - last_link >= interval:
                self._client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=self._client))
                last_link = now
            if now - last_in > SILENT_LINKS * interval:
                raise SmscSilent("no PDU from the SMSC")
            self.outbound.tick()
        self._await_acknowledgements()

    def _await_acknowledgements(self, seconds: float = 2.0) -> None:
        """Before unbinding: read the answers to outbox texts still in flight (for up to ``seconds``), so that
        a stop does not leave them to be sent again after their lease."""
        deadline = time.monotonic() + seconds
        while self.outbound.in_flight and time.monotonic() < deadline:
            readable, _, _ = select.select([self._client._socket], [], [], POLL_S)
            if readable:
                self._client.read_once(auto_send_enquire_link=False)

    def close(self, unbind: bool = True) -> None:
        """Unbind (when still bound and asked to) and close the socket; never raises."""
        try:
            if unbind and self._client.state in (smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,):
                self._client.unbind()
        except Exception:
            log.info("SMPP unbind not acknowledged")
        finally:
            self._client.disconnect()

    def start(self) -> SmppGateway:
        """Bind and serve in a background thread (tests, embedding); ``stop`` ends it."""
        self.bind()
        self._thread = threading.Thread(target=self._serve_quietly, name="smpp-esme", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.close()

    def _serve_quietly(self) -> None:
        try:
            self.serve(self._stop)
        except Exception:
            if not self._stop.is_set():
                log.exception("SMPP session ended")

    def _on_sent(self, pdu: Any) -> None:
        """A submit_sm_resp: settles an outbox text; a reply's is only noted when refused."""
        if not self.outbound.acknowledged(pdu) and pdu.status:
            log.warning("SMS reply refused by the SMSC", extra={"status": int(pdu.status)})

    def _on_error_pdu(self, pdu: Any) -> None:
        """A PDU with an error status.  A refused submit_sm is no reason to drop the session: its
        submit_sm_resp goes on to ``_on_sent``, a generic_nack of an outbox text settles it; anything else
        ends the session, as smpplib would."""
        if pdu.command == "submit_sm_resp" or (pdu.command == "generic_nack" and self.outbound.acknowledged(pdu)):
            return
        raise smpplib.exceptions.PDUError(f"({pdu.status}) {pdu.command}", int(pdu.status))

    def _on_pdu(self, pdu: Any) -> int | None:
        if getattr(pdu, "command", "") != "deliver_sm" or pdu.esm_class & 0x3C:  # delivery receipts etc.
            return None
        sender = pdu.source_addr.decode() if isinstance(pdu.source_addr, bytes) else str(pdu.source_addr)
        text = decode_short_message(pdu.short_message or b"", pdu.data_coding, pdu.esm_class)
        inbound = Inbound(sender, text)
        try:
            with self._database.sessions.begin() as session:
                result = answer(session, inbound, self._settings, now=self._clock())
                if result.entry is not None:
                    self._ledger.append(result.entry)
        except Exception:
            log.exception("inbound SMS not answered")
            return ESME_RSYSERR
        if result.reply:
            self._provider.send(None, sender, result.reply)
        return smpplib.consts.SMPP_ESME_ROK  # type: ignore[no-any-return]
