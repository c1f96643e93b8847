"""Citizen-channel fixtures: committed residents with their own phone numbers, signed webhook calls."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from dancu.citizen.settings import get_citizen_settings
from dancu.citizen.sms.routes import signature
from dancu.db import Database
from tests.registry import factories


def new_phone() -> str:
    return "09" + f"{random.randrange(10**8):08d}"


def make_resident(database: Database, **overrides: Any) -> dict[str, Any]:
    """A resident committed for real (HTTP, SMPP and browser tests read it from other connections)."""
    phone = overrides.pop("phone", new_phone())
    with database.sessions.begin() as session:
        record = factories.create(session, phone=phone, **overrides)
    fields = record.resident.fields
    return {"personal_id": fields["personal_id"], "phone": phone, "full_name": fields["full_name"],
            "date_of_birth": fields["date_of_birth"]}


def ledger_rows(database: Database, personal_id: str, service: str) -> list[Any]:
    with database.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT * FROM ledger_entry WHERE personal_ids @> ARRAY[CAST(:pid AS text)] AND service = :s"
            " ORDER BY seq"), {"pid": personal_id, "s": service}))


def send_sms(http: httpx.Client, sender: str, message: str, secret: str | None = None) -> httpx.Response:
    body = json.dumps({"from": sender, "to": "8288", "text": message}).encode()
    sig = signature(secret or get_citizen_settings().sms_webhook_secret, body)
    return http.post("/citizen/sms/inbound", content=body,
                     headers={"content-type": "application/json", "x-dancu-signature": sig})


@pytest.fixture
def resident(database: Database) -> dict[str, Any]:
    return make_resident(database)
