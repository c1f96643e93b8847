"""What the signed-in citizen sees and downloads: the record with sources, household, who used the data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from fpdf import FPDF
from sqlalchemy.orm import Session

from dancu.citizen.clock import VIETNAM
from dancu.citizen.history import Access, access_history
from dancu.citizen.portal.i18n import field_label
from dancu.citizen.portal.levels import FULL, visible_fields
from dancu.registry import repository as registry
from dancu.registry.queries import read_record
from dancu.registry.schemas import ResidentFields, ResidentRecord

# DejaVu Sans ships with the package (free licence, DejaVu-LICENSE.txt beside it): PDFs render Vietnamese on
# any machine, with no system font to install.
FONT_CANDIDATES = (Path(__file__).parent / "fonts" / "DejaVuSans.ttf",
                   Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))


# The order of Luật Căn cước 2023 Điều 9 (the registry's schema), not the storage order.
_ORDER = {name: n for n, name in enumerate(ResidentFields.model_fields)}


@dataclass(frozen=True)
class Row:
    field: str
    label: str
    value: str
    source: str
    updated: str


def record_of(session: Session, personal_id: str) -> ResidentRecord | None:
    resident = registry.find(session, personal_id)
    return read_record(session, resident) if resident is not None else None


def shown(value: Any) -> str:
    if value in (None, "", [], {}):
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# Which catalogue names a coded field, so the citizen reads "Nam", "Kinh", "Hà Nội" rather than codes.
FIELD_CATALOGS: dict[str, tuple[str, ...]] = {
    "sex": ("sex",), "ethnic_code": ("ethnic_group",), "religion_code": ("religion",),
    "nationality_code": ("country",), "marital_status": ("marital_status",),
    "relation_to_head": ("relation_to_head",), "blood_type": ("blood_type",),
    **{f"{kind}_province": ("province", "province_63")
       for kind in ("permanent", "temporary", "current", "birth_place", "birth_registration", "home_town")},
    **{f"{kind}_commune": ("commune",) for kind in ("permanent", "temporary", "current", "birth_registration")},
}


class CodeNames(Protocol):
    def name(self, catalog: str, code: str) -> str | None: ...


DATE_FIELDS = frozenset({"date_of_birth", "death_date"})
_ID_CARD_KINDS = {"can_cuoc": "Thẻ căn cước", "cccd": "Thẻ CCCD", "cmnd12": "CMND 12 số"}


def described(field: str, value: Any, names: CodeNames | None) -> str:
    """The value as a citizen reads it: a code followed by its catalogue name, dates day first, relatives and
    cards one per line — never raw JSON."""
    if field in DATE_FIELDS and isinstance(value, str):
        return vietnamese_date(value)
    if field == "relatives" and isinstance(value, list):
        return "\n".join(_relative(r, names) for r in value if isinstance(r, dict))
    if field == "id_cards" and isinstance(value, list):
        return "\n".join(_card(c) for c in value if isinstance(c, dict))
    if isinstance(value, dict):
        return "\n".join(f"{k}: {shown(v)}" for k, v in value.items() if v not in (None, ""))
    text = shown(value)
    if names is None or not isinstance(value, str) or field not in FIELD_CATALOGS:
        return text
    label = next((n for c in FIELD_CATALOGS[field] if (n := names.name(c, value))), None)
    return f"{label} ({value})" if label else text


def vietnamese_date(value: str) -> str:
    """``1985-04-12`` → ``12/04/1985``, ``1985-04`` → ``04/1985``, ``1985`` stays (partial dates as recorded)."""
    parts = value.split("-")
    return "/".join(reversed(parts)) if all(p.isdigit() for p in parts) else value


def _relative(relative: dict[str, Any], names: CodeNames | None) -> str:
    kind = str(relative.get("kind", ""))
    label = (names.name("relative_kind", kind) if names else None) or kind
    who = str(relative.get("full_name", ""))
    number = relative.get("personal_id") or relative.get("old_id_number")
    return f"{label}: {who}" + (f" ({number})" if number else "")


def _card(card: dict[str, Any]) -> str:
    kind = _ID_CARD_KINDS.get(str(card.get("kind")), str(card.get("kind", "")))
    issued = vietnamese_date(str(card["issued_on"])) if card.get("issued_on") else ""
    until = vietnamese_date(str(card["valid_until"])) if card.get("valid_until") else ""
    return " — ".join(p for p in (f"{kind} {card.get('number') or ''}".strip(), issued and f"cấp {issued}",
                                  str(card.get("issued_by") or ""), until and f"đến {until}") if p)


def rows(record: ResidentRecord, lang: str, names: CodeNames | None = None, level: int = FULL) -> list[Row]:
    """The fields ``level`` may see, each with its source and update time."""
    provenance = record.resident.provenance or {}
    out = []
    fields = visible_fields(level, record.resident.fields)
    for field, value in sorted(fields.items(), key=lambda item: _ORDER.get(item[0], len(_ORDER))):
        # bulk-loaded records carry one provenance entry for every field ("*")
        stamp = provenance.get(field) or (provenance.get("*") if value not in (None, "", [], {}) else None) or {}
        out.append(Row(field, field_label(field, lang), described(field, value, names), str(stamp.get("source", "")),
                       local_time(stamp.get("updated_at"))))
    return out


def local_time(stamp: Any) -> str:
    """An ISO timestamp of the record as the citizen reads it: Vietnam time, ``dd/mm/yyyy hh:mm``."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)[:19].replace("T", " ")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(VIETNAM):%d/%m/%Y %H:%M}"


def disclosed_fields(record: ResidentRecord, level: int = FULL) -> tuple[str, ...]:
    return tuple(f for f, v in visible_fields(level, record.resident.fields).items() if v not in (None, "", [], {}))


def others(session: Session, personal_id: str) -> list[Access]:
    """Uses of the record by agencies (the citizen's own look-ups left out)."""
    return [a for a in access_history(session, personal_id, limit=100) if not a.service.startswith("citizen_")]


def as_json(record: ResidentRecord) -> bytes:
    body = {"resident": {"fields": record.resident.fields, "provenance": record.resident.provenance},
            "household": record.household.model_dump(mode="json") if record.household else None}
    return json.dumps(body, ensure_ascii=False, indent=2, default=str).encode()


def as_pdf(record: ResidentRecord, lang: str, title: str, names: CodeNames | None = None) -> bytes:
    font = next((p for p in FONT_CANDIDATES if p.exists()), None)
    if font is None:
        raise RuntimeError("a Unicode TTF font is needed for PDF (Debian: apt-get install fonts-dejavu-core)")
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(font))
    pdf.set_font("DejaVu", size=14)
    pdf.add_page()
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    for row in rows(record, lang, names):
        if row.value:
            source = f" [{row.source} {row.updated}]" if row.source else ""
            pdf.multi_cell(0, 5, f"{row.label}: {row.value}{source}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
