import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.kit.text import clean, exact_key, fold


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nguyễn Thị Hoà", "nguyễn thị hòa"),
        ("Thuỷ", "Thủy"),
        ("Ðặng", "Đặng"),
        ("  Lê   Văn  An ", "lê văn an"),
        ("HOÀ", "hòa"),
        (unicodedata.normalize("NFD", "Trần Quý"), "Trần Quý"),
    ],
)
def test_exact_key_ignores_case_spacing_tone_placement(a: str, b: str) -> None:
    assert exact_key(a) == exact_key(b)


@pytest.mark.parametrize(("a", "b"), [("Hòa", "Hóa"), ("Thủy", "Thúy"), ("Lan", "Lân"), ("Đức", "Dức")])
def test_exact_key_keeps_letters_and_tones(a: str, b: str) -> None:
    assert exact_key(a) != exact_key(b)


def test_fold() -> None:
    assert fold("Nguyễn Thị Thuỷ ĐẶNG") == "nguyen thi thuy dang"
    assert fold("Ðỗ Hoà") == fold("Đỗ Hòa") == "do hoa"


vietnamese = st.text(
    alphabet="aăâeêioôơuưyđAĂÂEÊIOÔƠUƯYĐàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ bn"
)


@given(vietnamese)
def test_fold_removes_every_diacritic(text: str) -> None:
    folded = fold(text)
    assert folded.isascii()
    assert not any(unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", folded))


@given(st.text())
def test_clean_is_idempotent(text: str) -> None:
    assert clean(clean(text)) == clean(text)
