"""Misuse flags are pure functions over counts, each with the figures it was raised on."""

from __future__ import annotations

from datetime import date

from dancu.ledger import flags
from dancu.ledger.flags import SystemDay

DAY = date(2026, 11, 28)


def _day(requests: int, history: tuple[int, ...] = (), off_hours: int = 0, unknown: int = 0) -> SystemDay:
    return SystemDay("VN/GOV/BANK/app", DAY, requests, off_hours, unknown, history)


def test_volume_spike_against_the_systems_own_baseline() -> None:
    steady = tuple(1_000 + (i % 5) * 20 for i in range(28))
    assert flags.volume_spike(_day(1_100, steady)) is None
    flag = flags.volume_spike(_day(5_000, steady))
    assert flag is not None and flag.kind == "volume_spike" and flag.figures["requests"] == 5_000
    assert "mean of 1038" in flag.explanation and "mean + 4σ = 1150" in flag.explanation
    assert flags.volume_spike(_day(900, (1,) * 28)) is None  # below the minimum: too small to matter
    assert flags.volume_spike(_day(5_000, (1,) * 3)) is None  # no baseline yet


def test_bulk_lookups_outside_working_hours() -> None:
    assert flags.off_hours_bulk(_day(600, off_hours=500)) is None
    flag = flags.off_hours_bulk(_day(600, off_hours=501))
    assert flag is not None and "22:00 and 06:00" in flag.explanation


def test_high_unknown_id_rate_suggests_enumeration() -> None:
    assert flags.enumeration(_day(199, unknown=199)) is None  # too few requests to judge
    assert flags.enumeration(_day(1_000, unknown=300)) is None
    flag = flags.enumeration(_day(1_000, unknown=450))
    assert flag is not None and flag.figures["rate"] == 0.45 and "45%" in flag.explanation


def test_flags_for_applies_every_rule() -> None:
    found = flags.flags_for([_day(5_000, (100,) * 28, off_hours=4_000, unknown=4_000)])
    assert {f.kind for f in found} == {"volume_spike", "off_hours_bulk", "id_enumeration"}
