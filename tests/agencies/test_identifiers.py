from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.agencies.identifiers import PART_CHARS, InvalidIdentifier, parse_member, parse_system

parts = st.text(alphabet=PART_CHARS, min_size=1, max_size=64)


@given(parts, parts, parts, parts)
def test_system_identifiers_round_trip(instance: str, member_class: str, code: str, subsystem: str) -> None:
    text = f"{instance}/{member_class}/{code}/{subsystem}"
    parsed = parse_system(text)
    assert str(parsed) == text
    assert parsed.member == parse_member(f"{instance}/{member_class}/{code}")


@given(parts, parts, st.text(min_size=1, max_size=10).filter(lambda s: any(c not in PART_CHARS for c in s)))
def test_a_disallowed_character_is_refused(instance: str, member_class: str, bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_system(f"{instance}/{member_class}/{bad}/SUB")


@pytest.mark.parametrize("text", ["", "VN/GOV/001", "VN/GOV/001/A/B", "VN//001/A", "VN/GOV/Bộ/A", "VN/GOV/0 1/A"])
def test_malformed_identifiers(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_system(text)


def test_x_road_examples() -> None:
    assert parse_system("XROADVN/GOV/000.00.00.G01/ONEGATE").subsystem == "ONEGATE"
    assert str(parse_member("VN/COM/0100230800")) == "VN/COM/0100230800"
