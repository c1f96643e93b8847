"""Open-loop, fixed-rate load for ``POST /exchange/v1/verify``: request n is due at ``start + n / rate``
whether or not earlier answers have come back, and its latency is counted from that due time, so a stall
of the server shows in the percentiles instead of slowing the generator down (no coordinated omission).

Cheap enough to share the machine with the server: plain HTTP/1.1 over a fixed set of keep-alive connections
(``--connections``, opened before the clock starts) on asyncio (uvloop when installed), requests rendered once
up front, no HTTP client library per request.  As in wrk2, a request due while every connection is busy
waits for the next free one and its latency still counts from its due time.  The first ``--warmup`` seconds
(at the same rate) are not counted.

    python bench/fixed_rate.py --base http://127.0.0.1:8000 --token TOKEN --ids ids.txt --rate 2000 --seconds 20

Prints one JSON line: sent, failures, p50, p90, p99, max (ms), connections used, and the generator's CPU
seconds.  ``bench/verify_load.py`` runs it in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
from pathlib import Path
from urllib.parse import urlsplit

PURPOSE = "kyc_account_opening"
KEEP_ALIVE = 4.0  # seconds a connection may sit idle and still be reused (uvicorn closes at 5)
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def render(host: str, token: str, personal_id: str) -> bytes:
    body = json.dumps({"personal_id": personal_id, "purpose": PURPOSE, "sex": "1", "date_of_birth": "1990"},
                      separators=(",", ":")).encode()
    head = (f"POST /exchange/v1/verify HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def exchange(conn: Connection, request: bytes) -> int:
    """Send one request and read its whole answer; its status."""
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


class Connections:
    """A fixed set of keep-alive connections, as wrk2 keeps: a request due while all are busy waits for the next
    free one (its latency still counts from its due time).  One idle longer than :data:`KEEP_ALIVE` is
    replaced before use (uvicorn closes idle connections at 5 s)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.free: asyncio.Queue[tuple[Connection, float]] = asyncio.Queue()

    async def open(self, count: int) -> None:
        for _ in range(count):
            self.free.put_nowait((await asyncio.open_connection(self.host, self.port), time.monotonic()))

    async def take(self) -> Connection:
        conn, used = await self.free.get()
        if time.monotonic() - used > KEEP_ALIVE:
            conn[1].close()
            conn = await asyncio.open_connection(self.host, self.port)
        return conn

    def give(self, conn: Connection) -> None:
        self.free.put_nowait((conn, time.monotonic()))

    async def replace(self) -> None:
        """A connection that failed: a new one in its place."""
        await self.open(1)


async def run(base: str, token: str, ids: list[str], rate: float, seconds: float, connections: int,
              warmup: float = 2.0) -> dict[str, float]:
    """``warmup`` seconds at the same rate first, not counted: connections opened, caches and batches warm."""
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    requests = [render(f"{host}:{port}", token, pid) for pid in random.sample(ids, min(len(ids), 20_000))]
    pool = Connections(host, port)
    await pool.open(connections)
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter() + 0.05
    counted_from = start + warmup

    async def one(due: float, request: bytes) -> None:
        nonlocal failures
        conn = await pool.take()
        try:
            failed = await exchange(conn, request) != 200
            pool.give(conn)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            failed = True
            conn[1].close()
            await pool.replace()
        if due >= counted_from:
            failures += failed
            latencies.append((time.perf_counter() - due) * 1000)

    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()
    for n in range(int(rate * (warmup + seconds))):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = loop.create_task(one(due, requests[n % len(requests)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    return summary(sorted(latencies), failures, connections)


def summary(latencies: list[float], failures: int, connections: int) -> dict[str, float]:
    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))]

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"sent": len(latencies), "failures": failures, "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99),
            "max": latencies[-1], "connections": connections, "cpu_seconds": usage.ru_utime + usage.ru_stime}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ids", type=Path, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds at the rate first, not counted")
    parser.add_argument("--connections", type=int, default=128, help="kept open, as wrk2's -c")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    ids = args.ids.read_text().split()
    print(json.dumps(runner(run(args.base, args.token, ids, args.rate, args.seconds, args.connections,
                                 args.warmup))))


if __name__ == "__main__":
    main()
