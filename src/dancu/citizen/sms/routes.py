"""The aggregator webhook: POST /citizen/sms/inbound, signed with HMAC-SHA256 over the raw body.

Header ``X-Dancu-Signature: sha256=<hex of HMAC(secret, body)>``.  The reply comes back in the response
body, with its segments, for the aggregator to send from the short code.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field, ValidationError

from dancu.citizen import disclosure
from dancu.citizen.clock import clock
from dancu.citizen.errors import BadSignature
from dancu.citizen.settings import get_citizen_settings
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


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _parse(body: bytes) -> InboundSms:
    try:
        return InboundSms.model_validate_json(body)
    except ValidationError as error:
        problems = [field_error(".".join(str(p) for p in e["loc"]) or "body", e["type"], e["msg"], e["msg"])
                    for e in error.errors()]
        raise ValidationFailed(problems) from None


def _handle(request: Request, inbound: Inbound) -> Answer:
    settings = get_citizen_settings()
    with request.app.state.database.sessions.begin() as session:
        result = answer(session, inbound, settings, now=clock(request)())
        if result.entry is not None:
            disclosure.append_from_thread(request.app.state.ledger_writer, result.entry)
    return result


_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["from", "text"],
    "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "text": {"type": "string"},
                   "message_id": {"type": "string"}}}}}}}


@router.post("/inbound", response_model=SmsReply, summary="Inbound SMS from an aggregator gateway",
             responses={401: {"description": "Missing or wrong signature"}, 422: {"description": "Bad body"},
                        503: {"description": "The exchange log could not be written"}},
             openapi_extra=_BODY)
async def inbound_sms(request: Request,
                      x_dancu_signature: Annotated[str | None, Header()] = None) -> SmsReply:
    body = await request.body()
    expected = signature(get_citizen_settings().sms_webhook_secret, body)
    if x_dancu_signature is None or not hmac.compare_digest(expected, x_dancu_signature):
        raise BadSignature("Thiếu hoặc sai chữ ký X-Dancu-Signature.", "Missing or wrong X-Dancu-Signature.")
    message = _parse(body)
    result = await anyio.to_thread.run_sync(_handle, request, Inbound(message.sender, message.text,
                                                                      message.message_id))
    if result.reply is None:
        return SmsReply(reply=None, encoding=None, parts=[])
    split = segments.split(result.reply)
    return SmsReply(reply=result.reply, encoding=str(split.encoding), parts=list(split.parts))
