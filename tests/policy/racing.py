"""Processes racing over one shared rate table (its rate buckets or its quota counts)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

from dancu.policy.rate import RateTable

Racer = Callable[[RateTable, int, int, object, object], None]  # table, allowance, attempts, start, admitted


def race(racer: Racer, table: RateTable, allowance: int, attempts: int, processes: int = 4) -> int:
    """``processes`` spawned processes run ``racer`` at once (a barrier lets them go together), each trying
    ``attempts`` times against ``allowance``; what they admitted between them."""
    context = multiprocessing.get_context("spawn")
    admitted, start = context.Queue(), context.Barrier(processes)
    racers = [context.Process(target=racer, args=(table, allowance, attempts, start, admitted))
              for _ in range(processes)]
    for process in racers:
        process.start()
    counts = [admitted.get(timeout=120) for _ in racers]
    for process in racers:
        process.join(timeout=60)
    return sum(counts)
