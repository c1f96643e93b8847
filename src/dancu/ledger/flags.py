"""Flags for possible misuse (dấu hiệu lạm dụng): pure functions over one system's aggregated counts.

Each flag carries the figures it was raised on and a sentence an inspector can check by hand; none is
a verdict, each is a reason to look.  Thresholds are parameters with conservative defaults.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date

#: error codes that mean "this ID number is not a resident": many of them suggest guessing ID numbers
UNKNOWN_ID_CODES = frozenset({"resident_not_found", "invalid_id_number", "unknown_id", "no_match"})


@dataclass(frozen=True)
class SystemDay:
    """One system's counts for one day (Vietnam time) and its daily volumes for the days before."""

    system: str
    day: date
    requests: int
    off_hours: int  # requests between 22:00 and 06:00 Vietnam time
    unknown_ids: int  # answers whose error code is in UNKNOWN_ID_CODES
    history: tuple[int, ...] = ()  # daily requests of the previous days, oldest first, zeros included


@dataclass(frozen=True)
class Flag:
    system: str
    day: date
    kind: str
    explanation: str
    figures: dict[str, float] = field(default_factory=dict)


def volume_spike(counts: SystemDay, sigmas: float = 4.0, minimum: int = 1_000, min_history: int = 7) -> Flag | None:
    """Today's volume above the system's own mean + ``sigmas`` standard deviations (and above ``minimum``).

    A system with fewer than ``min_history`` active days before has no baseline yet and is not judged.
    """
    if sum(1 for c in counts.history if c) < min_history or counts.requests <= minimum:
        return None
    mean = statistics.fmean(counts.history)
    deviation = statistics.pstdev(counts.history)
    limit = mean + sigmas * deviation
    if counts.requests <= limit:
        return None
    return Flag(counts.system, counts.day, "volume_spike",
                f"{counts.requests} requests against a mean of {mean:.0f} (σ {deviation:.0f}) over the previous "
                f"{len(counts.history)} days; limit mean + {sigmas:g}σ = {limit:.0f}",
                {"requests": counts.requests, "mean": mean, "stdev": deviation, "limit": limit})


def off_hours_bulk(counts: SystemDay, threshold: int = 500) -> Flag | None:
    """More than ``threshold`` requests between 22:00 and 06:00 Vietnam time."""
    if counts.off_hours <= threshold:
        return None
    return Flag(counts.system, counts.day, "off_hours_bulk",
                f"{counts.off_hours} requests between 22:00 and 06:00 (Vietnam time); threshold {threshold}",
                {"off_hours": counts.off_hours, "threshold": threshold})


def enumeration(counts: SystemDay, rate: float = 0.3, min_requests: int = 200) -> Flag | None:
    """Over ``min_requests`` requests of which more than ``rate`` named no resident: ID numbers being tried."""
    if counts.requests < min_requests:
        return None
    share = counts.unknown_ids / counts.requests
    if share <= rate:
        return None
    return Flag(counts.system, counts.day, "id_enumeration",
                f"{counts.unknown_ids} of {counts.requests} requests ({share:.0%}) named an ID number that is "
                f"not a resident; threshold {rate:.0%} over at least {min_requests} requests",
                {"requests": counts.requests, "unknown_ids": counts.unknown_ids, "rate": share})


RULES = (volume_spike, off_hours_bulk, enumeration)


def flags_for(days: list[SystemDay]) -> list[Flag]:
    """Every rule over every system's day, with default thresholds."""
    return [flag for counts in days for rule in RULES if (flag := rule(counts)) is not None]
