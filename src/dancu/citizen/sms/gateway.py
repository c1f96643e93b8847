"""The SMPP 3.4 gateway: bound to the operator's SMSC as a transceiver ESME, it answers deliver_sm.

For each inbound SMS: answer it (see service), write the log entry and commit, then send the reply
as submit_sm; a failure to log refuses the deliver_sm (ESME_RSYSERR) so the SMSC retries.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import smpplib.client
import smpplib.consts

from dancu.citizen.providers.smpp import SmppProvider
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms import segments
from dancu.citizen.sms.service import Inbound, answer
from dancu.db import Database

log = logging.getLogger(__name__)
ESME_RSYSERR = 0x08


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
    def __init__(self, database: Database, ledger: Any, settings: CitizenSettings) -> None:
        self._database = database
        self._ledger = ledger  # a started LedgerWriter (sync append)
        self._settings = settings
        self._client = smpplib.client.Client(settings.smpp_host, settings.smpp_port, timeout=30,
                                              allow_unknown_opt_params=True)
        self._provider = SmppProvider(self._client, settings.sms_short_code)
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self) -> SmppGateway:
        self._client.set_message_received_handler(self._on_pdu)
        self._client.connect()
        self._client.bind_transceiver(system_id=self._settings.smpp_system_id, password=self._settings.smpp_password)
        self._thread = threading.Thread(target=self._listen, name="smpp-esme", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        try:
            self._client.listen()
        except Exception:
            if not self._stopping:
                log.exception("SMPP session ended")

    def _on_pdu(self, pdu: Any) -> int | None:
        if getattr(pdu, "command", "") != "deliver_sm" or pdu.esm_class & 0x3C:  # delivery receipts etc.
            return None
        sender = pdu.source_addr.decode() if isinstance(pdu.source_addr, bytes) else str(pdu.source_addr)
        text = decode_short_message(pdu.short_message or b"", pdu.data_coding, pdu.esm_class)
        inbound = Inbound(sender, text)
        try:
            with self._database.sessions.begin() as session:
                result = answer(session, inbound, self._settings)
                if result.entry is not None:
                    self._ledger.append(result.entry)
        except Exception:
            log.exception("inbound SMS not answered")
            return ESME_RSYSERR
        if result.reply:
            self._provider.send(None, sender, result.reply)
        return smpplib.consts.SMPP_ESME_ROK  # type: ignore[no-any-return]
