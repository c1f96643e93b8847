"""SMS providers behind one protocol: how the citizen channels send a text to a phone number.

* :class:`~dancu.citizen.providers.outbox.QueuedProvider` — the transactional outbox: the text becomes a
  ``pending`` row of ``citizen_sms_outbox`` in the caller's own transaction, and a delivery worker of its
  channel sends it after the commit (``smpp``: the ESME of ``dancu citizen smpp``; ``http``: the aggregator
  adapter of ``dancu citizen deliver``; see :mod:`dancu.citizen.delivery`);
* :class:`~dancu.citizen.providers.outbox.OutboxProvider` — development and demo only: the row is kept
  (status ``demo``), never sent, its text readable by ``dancu citizen outbox``;
* :class:`~dancu.citizen.providers.smpp.SmppProvider` — submit_sm at once through a bound SMPP 3.4 session
  (the replies to inbound SMS, sent by the gateway after their log entry is committed).

:func:`for_settings` picks the portal's provider from ``DANCU_CITIZEN_SMS_DELIVERY``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from dancu.citizen.settings import CitizenSettings


class SmsProvider(Protocol):
    name: str

    def send(self, session: Session | None, to: str, text: str, *, kind: str = "message",
             valid_until: datetime | None = None) -> None:
        """Send ``text`` to ``to``; may use ``session`` to record it in the caller's transaction.  ``kind``
        names what it is (``otp:login``…); after ``valid_until`` it is worthless and must not be sent."""


def for_settings(settings: CitizenSettings) -> SmsProvider:
    from dancu.citizen.providers.outbox import OutboxProvider, QueuedProvider

    if settings.sms_delivery == "outbox":
        return OutboxProvider()
    return QueuedProvider(settings.sms_delivery)
