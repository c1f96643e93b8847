"""bench/fixed_rate.py, the half-rate load of the verify benchmark, against a stand-in server on a real socket:
it sends at the rate asked whatever the answers do, and a stall of the server shows in its percentiles from
each request's due time (no coordinated omission)."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import cast

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fixed_rate.py"
ANSWER = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixed_rate_tool", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def _stand_in(stall_at: float, stall: float, seen: list[float]) -> asyncio.Server:
    """Answers each request at once, except that every answer due in [stall_at, stall_at + stall) waits."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                              if line.startswith(b"content-length:"))
                await reader.readexactly(length)
                seen.append(loop.time() - started)
                late = started + stall_at + stall - loop.time()
                if 0 < late <= stall:
                    await asyncio.sleep(late)
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_it_sends_at_the_rate_and_counts_a_stall_from_each_due_time() -> None:
    tool, seen = _tool(), []

    async def run() -> dict[str, float]:
        server = await _stand_in(stall_at=1.0, stall=0.4, seen=seen)
        port = server.sockets[0].getsockname()[1]
        try:
            return await tool.run(f"http://127.0.0.1:{port}", "t", ["012345678901"], rate=200, seconds=1.5,
                                  connections=8, warmup=0.3)
        finally:
            server.close()

    result = asyncio.run(run())
    assert result["failures"] == 0
    assert result["sent"] == 300  # the counted 1.5 s at 200 a second: every due request, stalled or not
    assert len(seen) == 360  # warm-up included, nothing more
    # 80 of the 300 fall due during the 0.4 s stall; 8 connections hold 8 of them, the rest wait for a free one.
    # Counted from its due time the request due at t waited about 1.4 - t, so a tenth of all waited ≥ 250 ms;
    # counted from when it was sent (coordinated omission) only the 8 would show the stall
    assert result["max"] >= 300 and result["p90"] >= 150 and result["p50"] < 100


def test_the_trace_has_each_counted_answer_with_its_due_time_and_latency(tmp_path: Path) -> None:
    tool, seen = _tool(), cast(list[float], [])
    trace = tmp_path / "trace.tsv"

    async def run() -> dict[str, float]:
        server = await _stand_in(stall_at=0.8, stall=0.2, seen=seen)
        port = server.sockets[0].getsockname()[1]
        try:
            return cast(dict[str, float], await tool.run(
                f"http://127.0.0.1:{port}", "t", ["012345678901"], rate=100, seconds=1.0, connections=4, warmup=0.3,
                trace=trace))
        finally:
            server.close()

    before = time.time()
    result = asyncio.run(run())
    head, *lines = trace.read_text().splitlines()
    counted_from = float(head.split()[3])
    assert head.startswith("# counted from ") and before + 0.3 <= counted_from <= time.time()
    rows = [tuple(map(float, line.split("\t"))) for line in lines]
    assert len(rows) == result["sent"] == 100
    dues = sorted(due for due, _ in rows)
    assert dues[0] >= 0 and dues[-1] < 1.0 and all(b - a < 0.02 for a, b in itertools.pairwise(dues))
    assert abs(max(ms for _, ms in rows) - result["max"]) < 0.01  # written with 2 decimals
    # the stall began 0.8 s after the stand-in started, about 0.45 s into the counted second (the warm-up and
    # the connections came first): the slowest answer was due in it, and so were nearly all the slow ones
    slowest_due = max(rows, key=lambda row: row[1])[0]
    slow = [due for due, ms in rows if ms > 50]
    assert 0.3 <= slowest_due < 0.7
    assert slow and sum(0.3 <= due < 0.7 for due in slow) >= 0.9 * len(slow)
