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
from dancu.registry.schemas import ResidentRecord

# DejaVu Sans ships with the package (free licence, DejaVu-LICENSE.txt beside it): PDFs render Vietnamese on
# any machine, with no system font to install.
FONT_CANDIDATES = (Path(__file__).parent / "fonts" / "DejaVuSans.ttf",
                   Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))


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


def described(field: str, value: Any, names: CodeNames | None) -> str:
    """The value as shown: a code followed by its catalogue name when there is one."""
    text = shown(value)
    if names is None or not isinstance(value, str) or field not in FIELD_CATALOGS:
        return text
    label = next((n for c in FIELD_CATALOGS[field] if (n := names.name(c, value))), None)
    return f"{label} ({value})" if label else text


def rows(record: ResidentRecord, lang: str, names: CodeNames | None = None, level: int = FULL) -> list[Row]:
    """The fields ``level`` may see, each with its source and update time."""
    provenance = record.resident.provenance or {}
    out = []
    for field, value in visible_fields(level, record.resident.fields).items():
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
