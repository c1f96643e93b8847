"""SMS providers behind one protocol: how the citizen channels send a text to a phone number.

* :class:`~dancu.citizen.providers.outbox.OutboxProvider` — stores messages in ``citizen_sms_outbox``
  (development, demo and tests; a real provider, readable by people and tests);
* :class:`~dancu.citizen.providers.smpp.SmppProvider` — submit_sm through a bound SMPP 3.4 session.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class SmsProvider(Protocol):
    name: str

    def send(self, session: Session | None, to: str, text: str) -> None:
        """Send ``text`` to ``to``; may use ``session`` to record it in the caller's transaction."""
