"""The SMPP 3.4 provider: one text as one or more submit_sm PDUs (UDH-concatenated, UCS-2 for Vietnamese)."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dancu.citizen.sms import segments

ESM_UDHI = 0x40
_references = itertools.count(1)


def submit_pdus(source: str, to: str, text: str, reference: int | None = None,
                dest_addr_ton: int = 0x00) -> list[dict[str, Any]]:
    """The submit_sm parameters of ``text`` (pure): one dict per segment."""
    split = segments.split(text)
    ref = next(_references) if reference is None else reference
    total = len(split.parts)
    out = []
    for index, part in enumerate(split.parts, start=1):
        body = segments.encode(part, split.encoding)
        header = segments.concat_udh(ref, total, index) if total > 1 else b""
        out.append({"source_addr_ton": 0x03 if source.isdigit() and len(source) <= 6 else 0x05,
                    "source_addr": source, "dest_addr_ton": dest_addr_ton,
                    "dest_addr_npi": 0x01 if dest_addr_ton == 0x01 else 0x00, "destination_addr": to,
                    "data_coding": segments.DATA_CODING[split.encoding], "esm_class": ESM_UDHI if total > 1 else 0,
                    "short_message": header + body})
    return out


class SmppProvider:
    """Sends through an already bound smpplib client (the gateway's transceiver session)."""

    name = "smpp"

    def __init__(self, client: Any, source: str) -> None:
        self._client = client
        self._source = source
        self._lock = threading.Lock()

    def send(self, session: Session | None, to: str, text: str, *, kind: str = "message",
             valid_until: datetime | None = None) -> None:
        with self._lock:
            for pdu in submit_pdus(self._source, to, text):
                self._client.send_message(**pdu)
