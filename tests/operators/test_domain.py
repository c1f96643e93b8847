"""Pure rules: the token format (property-based), refusals, roles."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.operators import domain
from dancu.operators.domain import Role, TokenState

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
HEX = "0123456789abcdef"


def test_new_tokens_are_well_formed_and_distinct() -> None:
    tokens = {domain.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(domain.is_well_formed(t) and len(t) == 76 and t.startswith("dco_") for t in tokens)


@given(st.binary(min_size=32, max_size=32))
def test_any_body_with_its_checksum_parses(body: bytes) -> None:
    hex_body = body.hex()
    assert domain.is_well_formed(f"dco_{hex_body}{domain._checksum(hex_body)}")


@given(st.integers(min_value=4, max_value=75), st.sampled_from(HEX))
def test_any_single_character_changed_is_refused(position: int, replacement: str) -> None:
    token = domain.new_token()
    changed = token[:position] + replacement + token[position + 1:]
    assert domain.is_well_formed(changed) == (changed == token)  # CRC-32 catches every single-digit error


@given(st.text(alphabet=string.printable + "đĐ\x00", max_size=100))
def test_arbitrary_text_is_not_a_token(text: str) -> None:
    assert not domain.is_well_formed(text)


@given(st.text(alphabet=HEX, min_size=72, max_size=72))
def test_random_hex_almost_never_has_a_valid_checksum(digits: str) -> None:
    assert domain.is_well_formed("dco_" + digits) == (domain._checksum(digits[:64]) == digits[64:])


def test_prefix_case_and_padding_matter() -> None:
    token = domain.new_token()
    for variant in (token.upper(), token.replace("dco_", "DCO_"), f" {token}", token + "0", token[:-1]):
        assert not domain.is_well_formed(variant)


def test_hash_is_sha256_and_hint_is_the_tail() -> None:
    token = domain.new_token()
    assert len(domain.token_hash(token)) == 32 and domain.token_hash(token) == domain.token_hash(token)
    assert domain.token_hint(token) == token[-4:]


@pytest.mark.parametrize(("state", "reason"), [
    (None, "unknown_token"),
    (TokenState(NOW + timedelta(days=1), None, True), None),
    (TokenState(NOW, None, True), "token_expired"),
    (TokenState(NOW + timedelta(days=1), NOW - timedelta(seconds=1), True), "token_revoked"),
    (TokenState(NOW - timedelta(days=1), NOW - timedelta(days=2), True), "token_revoked"),
    (TokenState(NOW + timedelta(days=1), None, False), "operator_disabled"),
])
def test_refusal(state: TokenState | None, reason: str | None) -> None:
    assert domain.refusal(state, NOW) == reason


def test_last_use_is_recorded_at_most_once_a_minute() -> None:
    assert domain.should_touch(None, NOW)
    assert not domain.should_touch(NOW - timedelta(seconds=59), NOW)
    assert domain.should_touch(NOW - timedelta(seconds=60), NOW)


def test_roles_parse_and_unknown_ones_are_named() -> None:
    assert domain.parse_roles(["inspector", "admin"]) == {Role.INSPECTOR, Role.ADMIN}
    with pytest.raises(ValueError, match="root, superuser"):
        domain.parse_roles(["inspector", "superuser", "root"])
    assert not domain.missing_roles(frozenset({Role.INSPECTOR}), frozenset({Role.INSPECTOR, Role.REVIEWER}))
    assert domain.missing_roles(frozenset({Role.ADMIN}), frozenset({Role.INSPECTOR}))
    assert set(domain.ROLE_TITLES) == set(Role)
