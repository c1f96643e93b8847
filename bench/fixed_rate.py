"""Open-loop, fixed-rate load for ``POST /exchange/v1/verify``: request n is due at ``start + n / rate``
whether or not earlier answers have come back, and its latency is counted from that due time, so a stall
of the server shows in the percentiles instead of slowing the generator down (no coordinated omission).

Cheap enough to share the machine with the server: plain HTTP/1.1 over a fixed set of keep-alive connections
(``--connections``, opened before the clock starts, used in turn as wrk uses its connections), each an asyncio
protocol (uvloop when installed) that writes a request rendered up front and reads its answer in
``data_received`` — no task, stream or HTTP client library per request.  The clock sleeps at least a
millisecond (the event loop's timer resolution) and on waking sends every request then due, so a request
leaves up to about a millisecond after its due time; that wait counts in its latency, against the server.
As in wrk2, a request due while every connection is busy waits for the next free one and its latency still
counts from its due time.  The first ``--warmup`` seconds (at the same rate) are not counted.

    python bench/fixed_rate.py --base http://127.0.0.1:8000 --token TOKEN --ids ids.txt --rate 2000 --seconds 20

Prints one JSON line: sent, failures, p50, p90, p99, max (ms), connections used, and the generator's CPU
seconds.  ``bench/verify_load.py`` runs it in its own process.

(Until 2026-12-03 each request was a task on asyncio streams: 54 µs of the generator's CPU per request at 3,700
requests a second, against wrk's 20 µs closed loop — 0.2 of the machine's 2 cores taken from the server.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

PURPOSE = "kyc_account_opening"
KEEP_ALIVE = 4.0  # seconds a connection may sit idle and still be reused (uvicorn closes at 5)
TICK = 0.001  # the clock's shortest sleep


def render(host: str, token: str, personal_id: str) -> bytes:
    body = json.dumps({"personal_id": personal_id, "purpose": PURPOSE, "sex": "1", "date_of_birth": "1990"},
                      separators=(",", ":")).encode()
    head = (f"POST /exchange/v1/verify HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class Load:
    """What the connections share: the requests due but not yet sent, the free connections, the results."""

    def __init__(self, counted_from: float) -> None:
        self.counted_from = counted_from
        self.backlog: deque[tuple[float, bytes]] = deque()  # due while every connection was busy
        self.free: deque[Client] = deque()
        self.latencies: list[float] = []
        self.trace: list[tuple[float, float]] | None = None  # (due, ms) of each counted answer, for --trace
        self.failures = 0
        self.in_flight = 0

    def send(self, due: float, request: bytes) -> None:
        while self.free:
            client = self.free.popleft()
            if time.perf_counter() - client.idle_since <= KEEP_ALIVE:
                client.send(due, request)
                return
            client.retire()  # the server may be closing it: a new connection takes its place
        self.backlog.append((due, request))

    def done(self, client: Client, due: float, ok: bool) -> None:
        if due >= self.counted_from:
            if ok:
                latency = (time.perf_counter() - due) * 1000
                self.latencies.append(latency)
                if self.trace is not None:
                    self.trace.append((due - self.counted_from, latency))
            else:
                self.failures += 1
        self.ready(client)

    def ready(self, client: Client) -> None:
        """A free connection: it takes the oldest request due, else waits for the next."""
        if self.backlog:
            client.send(*self.backlog.popleft())
        else:
            client.idle_since = time.perf_counter()
            self.free.append(client)


class Client(asyncio.Protocol):
    """One kept-alive connection, one request at a time: its answer's head, then Content-Length bytes."""

    def __init__(self, load: Load, host: str, port: int) -> None:
        self.load, self.host, self.port = load, host, port
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.due: float | None = None
        self.wanted = -1  # bytes of the answer (head and body), once its head is in
        self.status = 0
        self.idle_since = time.perf_counter()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, due: float, request: bytes) -> None:
        assert self.transport is not None
        self.due, self.buffer, self.wanted = due, b"", -1
        self.load.in_flight += 1
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.wanted < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower() + b"\r\n"
            at = head.find(b"\r\ncontent-length:")
            length = int(head[at + 17:head.find(b"\r\n", at + 2)]) if at >= 0 else 0
            self.status, self.wanted = int(head[9:12]), end + 4 + length
        if len(self.buffer) >= self.wanted:
            self._finish(self.status == 200)

    def _finish(self, ok: bool) -> None:
        due, self.due = self.due, None
        if due is not None:
            self.load.in_flight -= 1
            self.load.done(self, due, ok)

    def connection_lost(self, exc: Exception | None) -> None:
        due, self.due = self.due, None
        if due is not None:  # an answer cut off: a failure, and its connection replaced
            self.load.in_flight -= 1
            if due >= self.load.counted_from:
                self.load.failures += 1
        if self in self.load.free:
            self.load.free.remove(self)
        self.transport = None
        asyncio.get_running_loop().create_task(open_client(self.load, self.host, self.port))

    def retire(self) -> None:
        if self.transport is not None:
            self.transport.close()  # connection_lost opens its replacement


async def open_client(load: Load, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: Client(load, host, port), host, port)
    load.ready(client)


async def run(base: str, token: str, ids: list[str], rate: float, seconds: float, connections: int,
              warmup: float = 2.0, trace: Path | None = None) -> dict[str, float]:
    """``warmup`` seconds at the same rate first, not counted: connections opened, caches and batches warm.
    ``trace``: a file to write each counted answer to, as its due time (seconds from the counted start) and
    latency (ms), tab-separated, in the order they came back: where in the run the slow ones fell."""
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    requests = [render(f"{host}:{port}", token, pid) for pid in random.sample(ids, min(len(ids), 20_000))]
    load = Load(counted_from=float("inf"))
    if trace is not None:
        load.trace = []
    for _ in range(connections):
        await open_client(load, host, port)
    start = time.perf_counter() + 0.05
    load.counted_from = start + warmup
    total = int(rate * (warmup + seconds))
    n = 0
    while n < total:
        now = time.perf_counter()
        while n < total and start + n / rate <= now:
            load.send(start + n / rate, requests[n % len(requests)])
            n += 1
        if n < total:  # timers keep whole milliseconds: a shorter sleep would spin
            await asyncio.sleep(max(TICK, start + n / rate - time.perf_counter()))
    while load.in_flight or load.backlog:
        await asyncio.sleep(TICK)
    if trace is not None and load.trace is not None:
        counted_at = time.time() - (time.perf_counter() - load.counted_from)  # the wall clock, to line up with logs
        lines = "".join(f"{due:.4f}\t{ms:.2f}\n" for due, ms in load.trace)
        trace.write_text(f"# counted from {counted_at:.4f} (Unix time)\n{lines}")
    return summary(sorted(load.latencies), load.failures, connections)


def summary(latencies: list[float], failures: int, connections: int) -> dict[str, float]:
    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0.0

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"sent": len(latencies) + failures, "failures": failures, "p50": pct(0.50), "p90": pct(0.90),
            "p99": pct(0.99), "max": latencies[-1] if latencies else 0.0, "connections": connections,
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ids", type=Path, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds at the rate first, not counted")
    parser.add_argument("--connections", type=int, default=128, help="kept open, as wrk2's -c")
    parser.add_argument("--trace", type=Path, help="write each answer's due time (s) and latency (ms) here")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    ids = args.ids.read_text().split()
    print(json.dumps(runner(run(args.base, args.token, ids, args.rate, args.seconds, args.connections,
                                 args.warmup, args.trace))))


if __name__ == "__main__":
    main()
