"""The SMS command parser: forgiving, classifying, never raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.citizen.sms.commands import Kind, parse

ID = "001085012345"


@pytest.mark.parametrize("text", [f"DC {ID}", f"dc {ID}", f"  Dc   {ID} ", f"DC TT {ID}", f"{ID}",
                                  "DC 001 085 012345", "DC 001.085.012345", f"dancu {ID}", f"DC thông tin {ID}"])
def test_record_commands(text: str) -> None:
    assert parse(text) == parse(f"DC {ID}")
    assert parse(text).kind is Kind.RECORD and parse(text).personal_id == ID


@pytest.mark.parametrize("text", [f"DC LS {ID}", f"dc ls {ID}", f"DC LICHSU {ID}", f"DC lịch sử {ID}",
                                  f"dc lich su {ID}", f"DC Lịch Sử   {ID}", f"LS {ID}"])
def test_history_commands(text: str) -> None:
    command = parse(text)
    assert command.kind is Kind.HISTORY and command.personal_id == ID


@pytest.mark.parametrize("text", ["DC HD", "dc hd", "DC HUONGDAN", "DC hướng dẫn", "HELP", "help", "DC", " dc ?"])
def test_help_commands(text: str) -> None:
    assert parse(text).kind is Kind.HELP


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("   ", "empty"), ("DC 12345", "bad_id"), (f"DC {ID}9", "bad_id"), ("DC LS", "bad_id"),
    ("DC XYZ 001085012345", "unknown_keyword"), ("xin chào", "unknown_keyword"), (f"DC LS {ID} abc", "bad_id"),
])
def test_malformed_commands(text: str, reason: str) -> None:
    command = parse(text)
    assert command.kind is Kind.MALFORMED and command.reason == reason and command.personal_id is None


@given(st.text())
def test_any_text_is_classified(text: str) -> None:
    command = parse(text)
    assert command.kind in Kind
    assert (command.personal_id is not None) == (command.kind in (Kind.RECORD, Kind.HISTORY))
    if command.personal_id is not None:
        assert len(command.personal_id) == 12 and command.personal_id.isdigit()


@given(st.from_regex(r"[0-9]{12}", fullmatch=True), st.sampled_from(["DC ", "dc  ", " Dc\t", ""]))
def test_any_id_round_trips(number: str, prefix: str) -> None:
    assert parse(prefix + number).personal_id == number
