"""How the record reads: catalogue names beside codes, update times in Vietnam time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dancu.catalogs.service import CatalogLookup
from dancu.citizen.portal import views


def test_codes_are_shown_with_their_catalogue_names(session: Session) -> None:
    lookup = CatalogLookup.load(session)
    assert views.described("sex", "2", lookup) == "Nữ (2)"
    assert views.described("permanent_province", "79", lookup) == f"{lookup.name('province', '79')} (79)"
    assert views.described("permanent_commune", "26743", lookup) == "Phường Bến Thành (26743)"
    assert views.described("full_name", "Nguyễn Văn An", lookup) == "Nguyễn Văn An"
    assert views.described("religion_code", "not-a-code", lookup) == "not-a-code"
    assert views.described("sex", None, lookup) == ""


def test_update_times_are_shown_in_vietnam_time() -> None:
    assert views.local_time("2026-01-31T20:30:00+00:00") == "01/02/2026 03:30"
    assert views.local_time("2026-01-31T20:30:00") == "01/02/2026 03:30"  # naive stamps are UTC
    assert views.local_time("2026-02-01T03:30:00+07:00") == "01/02/2026 03:30"
    assert views.local_time(None) == "" and views.local_time("không rõ") == "không rõ"


def test_dates_relatives_and_cards_read_as_text_not_json(session: Session) -> None:
    lookup = CatalogLookup.load(session)
    assert views.described("date_of_birth", "1985-04-12", lookup) == "12/04/1985"
    assert views.described("date_of_birth", "1985-04", lookup) == "04/1985"
    assert views.described("death_date", "2001", lookup) == "2001"
    father = lookup.name("relative_kind", "father")
    relatives = [{"kind": "father", "full_name": "Nguyễn Văn Ba", "personal_id": "001060000001"},
                 {"kind": "mother", "full_name": "Trần Thị Tư"}]
    shown = views.described("relatives", relatives, lookup)
    assert shown.splitlines()[0] == f"{father}: Nguyễn Văn Ba (001060000001)" and "Trần Thị Tư" in shown
    card = [{"kind": "can_cuoc", "number": "001085012345", "issued_on": "2024-07-01", "issued_by": "Cục C06"}]
    assert views.described("id_cards", card, lookup) == "Thẻ căn cước 001085012345 — cấp 01/07/2024 — Cục C06"
    assert "{" not in views.described("sector_ids", {"tax_code": "8012345678"}, lookup)
