"""The aggregator webhook: POST /citizen/sms/inbound, signed with HMAC-SHA256 over timestamp and raw body.

Headers ``X-Dancu-Timestamp: <Unix seconds>`` and ``X-Dancu-Signature: sha256=<hex of HMAC(secret,
"<timestamp>." + body)>`` (:mod:`dancu.citizen.signing`); a timestamp further than
``sms_webhook_tolerance_s`` (5 minutes) from now is refused.  A ``message_id`` already taken (the
aggregator's retry, or a replay) is not looked up again and gets no reply (``"duplicate": true``); without
a ``message_id`` the signature itself is the key, so an exact replay is caught too.  The reply comes back in
the response body, with its segments, for the aggregator to send from the short code.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field, ValidationError

from dancu.citizen import disclosure, signing
from dancu.citizen.clock import clock
from dancu.citizen.errors import BadSignature, StaleRequest
from dancu.citizen.settings import get_citizen_settings
from dancu.citizen.sms import repository as repo
from dancu.citizen.sms import segments
from dancu.citizen.sms.service import Answer, Inbound, answer
from dancu.errors import ValidationFailed, field_error

router = APIRouter(prefix="/citizen/sms", tags=["citizen"])


class InboundSms(BaseModel):
    sender: Annotated[str, Field(alias="from", min_length=1, max_length=32)]
    to: Annotated[str, Field(max_length=32)] = ""
    text: Annotated[str, Field(max_length=1600)]
    message_id: Annotated[str | None, Field(max_length=128)] = None


class SmsReply(BaseModel):
    reply: str | None = Field(description="Text to send back to the sender; null means send nothing.")
    encoding: str | None = Field(description="gsm7 or ucs2")
    parts: list[str] = Field(description="The reply split into SMS segments.")
    duplicate: bool = Field(default=False, description="True when this message_id (or, without one, this exact "
                            "signed request) was already taken: nothing looked up, nothing to send.")


def signature(secret: str, body: bytes, timestamp: str) -> str:
    return signing.sign(secret, timestamp, body)


def _parse(body: bytes) -> InboundSms:
    try:
        return InboundSms.model_validate_json(body)
    except ValidationError as error:
        problems = [field_error(".".join(str(p) for p in e["loc"]) or "body", e["type"], e["msg"], e["msg"])
                    for e in error.errors()]
        raise ValidationFailed(problems) from None


def _handle(request: Request, inbound: Inbound, key: str) -> Answer | None:
    """The answer, or None for a message already taken.  The key is recorded in the look-up's transaction,
    so a request that fails (503: the log could not be written) leaves it free for the aggregator's retry."""
    settings = get_citizen_settings()
    now = clock(request)()
    with request.app.state.database.sessions.begin() as session:
        if not repo.first_time(session, key, now):
            return None
        result = answer(session, inbound, settings, now=now)
        if result.entry is not None:
            disclosure.append_from_thread(request.app.state.ledger_writer, result.entry)
    return result


_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["from", "text"],
    "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "text": {"type": "string"},
                   "message_id": {"type": "string"}}}}}}}


@router.post("/inbound", response_model=SmsReply, summary="Inbound SMS from an aggregator gateway",
             responses={401: {"description": "Missing or wrong signature, or a stale timestamp"},
                        422: {"description": "Bad body"},
                        503: {"description": "The exchange log could not be written"}},
             openapi_extra=_BODY)
async def inbound_sms(request: Request, x_dancu_signature: Annotated[str | None, Header()] = None,
                      x_dancu_timestamp: Annotated[str | None, Header()] = None) -> SmsReply:
    body = await request.body()
    settings = get_citizen_settings()
    timestamp, signed = x_dancu_timestamp or "", x_dancu_signature or ""
    if not signing.valid(settings.sms_webhook_secret, timestamp, body, signed):
        raise BadSignature("Thiếu hoặc sai chữ ký X-Dancu-Signature / X-Dancu-Timestamp.",
                           "Missing or wrong X-Dancu-Signature / X-Dancu-Timestamp.")
    if not signing.fresh(timestamp, clock(request)(), settings.sms_webhook_tolerance_s):
        raise StaleRequest(f"X-Dancu-Timestamp lệch quá {settings.sms_webhook_tolerance_s} giây.",
                           f"X-Dancu-Timestamp is more than {settings.sms_webhook_tolerance_s} s away.")
    message = _parse(body)
    key = f"id:{message.message_id}" if message.message_id else f"sig:{signed[-64:]}"
    result = await anyio.to_thread.run_sync(_handle, request, Inbound(message.sender, message.text,
                                                                      message.message_id), key)
    if result is None:
        return SmsReply(reply=None, encoding=None, parts=[], duplicate=True)
    if result.reply is None:
        return SmsReply(reply=None, encoding=None, parts=[])
    split = segments.split(result.reply)
    return SmsReply(reply=result.reply, encoding=str(split.encoding), parts=list(split.parts))
