"""Pure matching rules: dates, normalisation, name keys (and the SQL twin of the loose key), noise kinds."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.kit.text import fold
from dancu.sync import testdata
from dancu.sync.matching.names import loose_key
from dancu.sync.matching.records import Normaliser, parse_date
from dancu.sync.sources import BUILT_IN, Source

NAMES = ["Nguyễn Văn An", "Võ Thị Thuỷ", "Vũ Thị Thủy", "Huỳnh Ngọc Vy", "Hoàng Ngọc Vi", "An Văn Nguyễn",
         "Lê Hoà", "Lê Hòa", "Thạch Thị Sô Phi", "Giàng A Páo", "Nguyễn  Thị", "Đặng Quốc Huy"]


@pytest.mark.parametrize(("text_", "parsed"), [
    ("1985-04-12", (1985, 4, 12, False)), ("12/04/1985", (1985, 4, 12, False)), ("04/1985", (1985, 4, None, False)),
    ("1985", (1985, None, None, False)), ("1985-25-04", (1985, 4, 25, True)), ("04/25/1985", (1985, 4, 25, True)),
    ("31/02/1990", None), ("hôm qua", None), ("1985-13-13", None),
])
def test_parse_date(text_: str, parsed: tuple[int, int | None, int | None, bool] | None) -> None:
    assert parse_date(text_) == parsed


def test_loose_key_absorbs_spelling_order_and_middle_names() -> None:
    assert loose_key(fold("Võ Thị Thuỷ")) == loose_key(fold("Vũ Thủy"))
    assert loose_key(fold("Huỳnh Ngọc Vy")) == loose_key(fold("Ngọc Vi Hoàng"))
    assert loose_key(fold("Nguyễn Văn An")) != loose_key(fold("Nguyễn Văn Anh"))


def test_sql_loose_key_equals_python(session: Session) -> None:
    for name in NAMES:
        folded = fold(name)
        assert session.execute(text("SELECT sync_name_loose(:n)"), {"n": folded}).scalar_one() == loose_key(folded)


def test_normaliser_notes_and_problems() -> None:
    normalise = Normaliser(BUILT_IN["bhyt"], lambda code: ("33", "province_old_code") if code == "34" else (code, None))
    staged = normalise(("001 085 000123", " Trần  Thị Bình ", "12/04/1990", "Nữ", "34", "GD4010000000001"))
    assert (staged.personal_id, staged.full_name, staged.dob, staged.sex, staged.province) == (
        "001085000123", "Trần Thị Bình", (1990, 4, 12), "2", "33")
    assert set(staged.notes) == {"province_old_code", "id_encodes_other_birth_year", "id_encodes_other_sex"}
    assert staged.problems == ()
    bad = normalise(("12345", "", "2999", "?", "", "x"))
    assert set(bad.problems) == {"name_missing", "date_of_birth_invalid", "identifier_malformed"}
    assert set(bad.notes) == {"id_malformed", "sex_unknown"}


def test_sources_reject_bad_declarations() -> None:
    with pytest.raises(ValueError):
        Source("BHYT!", "x", "key", "col", {"full_name": "a"})
    with pytest.raises(ValueError):
        Source("ok", "x", "key", "col", {"nickname": "a"})


def test_every_noise_kind_changes_what_it_says() -> None:
    resident = testdata.TrueResident(1, "001085000123", "Vũ Thị Hoà", (1985, 4, 12), "2", "33", ("001185000001",))
    source = BUILT_IN["bhyt"]
    seen = {}
    for kind in testdata.NOISE_KINDS:
        if kind == "hoang_huynh":
            continue
        item = testdata.record(random.Random(1), resident, kind, source)
        assert item.noise == kind, kind
        seen[kind] = item.values
    assert seen["id_missing"]["so_dinh_danh"] == ""
    assert seen["id_relative"]["so_dinh_danh"] == "001185000001"
    assert sum(a != b for a, b in zip(seen["id_digit"]["so_dinh_danh"], "001085000123", strict=True)) == 1
    assert sorted(seen["id_swap"]["so_dinh_danh"]) == sorted("001085000123")
    assert seen["no_diacritics"]["ho_ten"] == "Vu Thi Hoa"
    assert seen["old_tone"]["ho_ten"] == "Vũ Thị Hòa"
    assert seen["vu_vo"]["ho_ten"] == "Võ Thị Hoà"
    assert seen["drop_middle"]["ho_ten"] == "Vũ Hoà"
    assert seen["reversed"]["ho_ten"] == "Thị Hoà Vũ"
    assert seen["dob_year_only"]["ngay_sinh"] == "1985"
    assert seen["dob_swapped"]["ngay_sinh"] == "04/12/1985"
    assert seen["old_province"]["ma_tinh"] in {"34"}
    huynh = testdata.TrueResident(2, "001085000124", "Huỳnh Văn Hải", (1985, 4, 12), "1", "33", ())
    assert testdata.record(random.Random(1), huynh, "hoang_huynh", source).values["ho_ten"] == "Hoàng Văn Hải"
    assert testdata.record(random.Random(1), huynh, "id_relative", source).noise == "clean"
