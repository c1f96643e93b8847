from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.registry.domain import (
    PartialDate,
    PartialDateError,
    diff,
    is_blocked_by_death,
    normalise_phone,
    state_as_of,
)


@given(st.text())
def test_parsing_arbitrary_text_raises_only_its_own_error(text: str) -> None:
    try:
        parsed = PartialDate.parse(text)
    except PartialDateError:
        return
    assert PartialDate.parse(str(parsed)) == parsed


@given(st.dates(date(1800, 1, 1), date(2399, 12, 31)))
def test_full_dates_round_trip(day: date) -> None:
    assert str(PartialDate.parse(day.isoformat())) == day.isoformat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1950", PartialDate(1950)),
        ("1950-03", PartialDate(1950, 3)),
        ("1950-03-07", PartialDate(1950, 3, 7)),
        (" 2000-02-29 ", PartialDate(2000, 2, 29)),
    ],
)
def test_partial_forms(text: str, expected: PartialDate) -> None:
    assert PartialDate.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1950-13",
        "1900-02-29",
        "1950-3-7",
        "50",
        "1950-00",
        "0000",
        "1950-03-07x",
        "１９５０",
        "",
        "1950-02-30",
    ],
)
def test_invalid_forms(text: str) -> None:
    with pytest.raises(PartialDateError):
        PartialDate.parse(text)


def test_ordering_and_overlap() -> None:
    assert PartialDate(1950) < PartialDate(1950, 1) < PartialDate(1950, 1, 2) < PartialDate(1951)
    assert PartialDate(1950).can_precede(PartialDate(1950, 1, 1))  # same year: possible
    assert not PartialDate(1951).can_precede(PartialDate(1950, 12, 31))
    assert PartialDate(1950, 2).latest() == date(1950, 2, 28)


def test_diff_and_undo_walk_back_in_time() -> None:
    v1 = {"full_name": "An", "phone": None, "relatives": []}
    v2 = {"full_name": "Ân", "phone": "0912345678", "relatives": []}
    v3 = {"full_name": "Ân", "phone": "0987654321", "relatives": [{"kind": "father"}]}
    d12, d23 = diff(v1, v2), diff(v2, v3)
    assert d12 == {"full_name": ["An", "Ân"], "phone": [None, "0912345678"]}
    assert state_as_of(v3, [d23]) == v2
    assert state_as_of(v3, [d23, d12]) == v1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("(091) 234-5678", "0912345678"),
        ("0212345678", None),
        ("12345", None),
        ("+84 912 345 67", None),
    ],
)
def test_phone_normalisation(raw: str, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def test_death_blocks_everything_but_the_death_record() -> None:
    dead = {"death_kind": "dead"}
    assert is_blocked_by_death(dead, {"phone"})
    assert not is_blocked_by_death(dead, {"death_date", "death_kind"})
    assert not is_blocked_by_death({"death_kind": None}, {"phone"})
