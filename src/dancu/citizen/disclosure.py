"""Every disclosure to a citizen becomes an exchange-log entry, written before the answer leaves.

The process's one writer is ``app.state.ledger_writer`` (an object whose ``append`` is awaitable, or a
``LedgerWriter`` with ``append_async``); the SMPP gateway process uses a ``LedgerWriter`` directly.
"""

from __future__ import annotations

import hashlib
import uuid

from dancu.ledger.appending import append_from_thread as append_from_thread
from dancu.ledger.domain import EntryKind, LedgerEntry

PURPOSE = "tra cứu thông tin của chính mình"
LEGAL_BASIS = "Luật Căn cước 2023; Thông tư BCA về kết nối, chia sẻ dữ liệu với CSDLQG về dân cư"


def sha256(text: str | bytes) -> bytes:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).digest()


def entry(*, client_system: str, service: str, result: str, personal_id: str | None, fields: tuple[str, ...] = (),
          end_user: str | None = None, correlation_id: str | None = None, request: str = "", response: str = "",
          error_code: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        kind=EntryKind.EXCHANGE, client_system=client_system, service=service, purpose=PURPOSE, result=result,
        correlation_id=correlation_id or uuid.uuid4().hex, request_hash=sha256(request),
        response_hash=sha256(response), end_user=end_user, legal_basis=LEGAL_BASIS, error_code=error_code,
        personal_ids=(personal_id,) if personal_id else (), fields_disclosed=fields,
    )

