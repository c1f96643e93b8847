"""Helpers for registry tests: request bodies, unique names and numbers, an in-memory catalogue lookup."""

from __future__ import annotations

import random
import string
from typing import Any

from sqlalchemy.orm import Session

from dancu.registry import service
from dancu.registry.id_number import prefix_for
from dancu.registry.schemas import ResidentCreate


def lookup_for(session: Session) -> Any:
    return service.load_catalogs(session)


def token(length: int = 6) -> str:
    """A made-up syllable, so names stay unique across tests that share the database."""
    return random.choice("BCDGHKLMNPTVX") + "".join(random.choices(string.ascii_lowercase, k=length - 1))


def unique_number(place: str = "001", year: int = 1985, sex: str = "1") -> str:
    """A personal ID number nobody is likely to hold yet (random serial), for imports."""
    return prefix_for(place, year, sex) + f"{random.randrange(1_000_000):06d}"


def resident_payload(**overrides: Any) -> dict[str, Any]:
    """A valid POST /registry/residents body; override any field."""
    body: dict[str, Any] = {
        "full_name": f"Nguyễn Văn {token()}",
        "date_of_birth": "1985-04-12",
        "sex": "1",
        "birth_registration_province": "01",
        "birth_place": "Bệnh viện Bạch Mai, Hà Nội",
        "home_town": "Nam Định",
        "ethnic_code": "01",
        "religion_code": "00",
        "nationality_code": "VN",
        "blood_type": "O+",
        "permanent_province": "01",
        "permanent_commune": "00004",
        "permanent_address": "12 phố Huế",
        "marital_status": "1",
        "phone": "+84 912 345 678",
        "email": "an@example.vn",
        "source": "test",
        "reason": "khai sinh",
    }
    body.update(overrides)
    return body


def create(session: Session, lookup: Any = None, actor: str = "tester", **overrides: Any) -> Any:
    """Create a resident through the service; returns the ResidentRecord."""
    body = ResidentCreate.model_validate(resident_payload(**overrides))
    ctx = service.Context(
        session, actor=actor, source=body.source, reason=body.reason, lookup=lookup or lookup_for(session)
    )
    return service.create_resident(ctx, body)


def context(session: Session, lookup: Any = None, **kwargs: Any) -> service.Context:
    values = {"actor": "tester", "source": "test", "reason": "test", **kwargs}
    return service.Context(session, lookup=lookup or lookup_for(session), **values)
