"""The pure rules of SMS delivery and of the aggregator signatures: backoff, addressing, signing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dancu.citizen import signing
from dancu.citizen.delivery.service import backoff, international
from dancu.citizen.providers.smpp import submit_pdus
from dancu.citizen.settings import CitizenSettings

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_backoff_doubles_from_the_first_wait_up_to_the_cap() -> None:
    settings = CitizenSettings(sms_delivery_backoff_s=2, sms_delivery_backoff_max_s=60)
    assert [backoff(n, settings) for n in range(1, 9)] == [2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff(10_000, settings) == 60


def test_registered_numbers_are_addressed_internationally() -> None:
    assert international("0912345678") == ("84912345678", 1)
    assert international("84912345678") == ("84912345678", 0) and international("8288") == ("8288", 0)
    [pdu] = submit_pdus("8288", *(international("0912345678")[:1]), "Ma xac thuc: 123456",
                        dest_addr_ton=international("0912345678")[1])
    assert (pdu["destination_addr"], pdu["dest_addr_ton"], pdu["dest_addr_npi"], pdu["data_coding"]) == (
        "84912345678", 1, 1, 0)


def test_a_signature_covers_timestamp_and_body() -> None:
    headers = signing.headers("s", b'{"a":1}', NOW)
    timestamp, signature = headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER]
    assert timestamp == str(int(NOW.timestamp())) and signature.startswith("sha256=")
    assert signing.valid("s", timestamp, b'{"a":1}', signature)
    assert not signing.valid("s", timestamp, b'{"a":2}', signature)
    assert not signing.valid("s", str(int(timestamp) + 1), b'{"a":1}', signature)
    assert not signing.valid("t", timestamp, b'{"a":1}', signature)
    assert not signing.valid("s", None, b'{"a":1}', signature) and not signing.valid("s", timestamp, b"", None)
    assert not signing.valid("s", "-1", b"", signing.sign("s", "-1", b""))  # not a Unix time in digits


def test_freshness_is_five_minutes_either_way() -> None:
    stamp = str(int(NOW.timestamp()))
    assert signing.fresh(stamp, NOW + timedelta(seconds=300), 300) and signing.fresh(stamp, NOW - timedelta(
        seconds=300), 300)
    assert not signing.fresh(stamp, NOW + timedelta(seconds=301), 300)
    assert not signing.fresh(stamp, NOW - timedelta(seconds=301), 300)


@given(st.binary(max_size=300), st.text(max_size=20))
def test_only_the_exact_request_verifies(body: bytes, timestamp: str) -> None:
    signature = signing.sign("secret", "1764666000", body)
    assert signing.valid("secret", "1764666000", body, signature)
    assert signing.valid("secret", timestamp, body, signature) == (timestamp == "1764666000")
