"""Appends through the group-commit writer from concurrent callers in one or several processes, against
a raw COPY of the same rows measured in the same run.

    .venv/bin/python bench/ledger_append.py --entries 400000 --processes 2 --tasks 4000
    .venv/bin/python bench/ledger_append.py --entries 400000 --processes 2 --tasks 4000 --writer thread
    .venv/bin/python bench/ledger_append.py --entries 200000 --threads 128      # blocking callers

Each process runs its own writer (as each API worker does) and either ``--tasks`` asyncio callers
(``await append_async``) or ``--threads`` blocking callers (``append``), each with one entry in flight.
The asyncio callers go through ``LoopWriter`` (on their event loop, as ``dancu serve`` writes) or, with
``--writer thread``, ``LedgerWriter``'s background thread; blocking callers always through ``LedgerWriter``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dancu.db.engine import libpq_url
from dancu.ledger import repository
from dancu.ledger.domain import LedgerEntry, RecordedEntry, entry_leaf_hash, format_time
from dancu.ledger.encoding import copy_row, prepare
from dancu.ledger.loop_writer import LoopWriter
from dancu.ledger.writer import LedgerWriter
from ledger_common import bench_database, sample_entry


async def _async_callers(writer: LedgerWriter | LoopWriter, items: list[LedgerEntry], tasks: int) -> None:
    async def caller(mine: list[LedgerEntry]) -> None:
        for entry in mine:
            await writer.append_async(entry)

    await asyncio.gather(*(caller(items[t::tasks]) for t in range(tasks)))


def _thread_callers(writer: LedgerWriter, items: list[LedgerEntry], threads: int) -> None:
    def caller(mine: list[LedgerEntry]) -> None:
        for entry in mine:
            writer.append(entry)

    workers = [threading.Thread(target=caller, args=(items[t::threads],)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


async def _on_the_loop(url: str, items: list[LedgerEntry], tasks: int, ready: Any, go: Any) -> None:
    writer = await LoopWriter(url).start()
    ready.release()
    await asyncio.to_thread(go.wait)
    await _async_callers(writer, items, tasks)
    await writer.close()


def _process(url: str, first: int, count: int, tasks: int, threads: int, loop: bool, ready: Any, go: Any) -> None:
    items = [sample_entry(n) for n in range(first, first + count)]
    if loop and not threads:
        asyncio.run(_on_the_loop(url, items, tasks, ready, go))
        return
    with LedgerWriter(lambda: psycopg.connect(url)) as writer:
        ready.release()
        go.wait()
        if threads:
            _thread_callers(writer, items, threads)
        else:
            asyncio.run(_async_callers(writer, items, tasks))


def _logged(url: str, entries: int, processes: int, tasks: int, threads: int, loop: bool) -> float:
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    share = entries // processes
    children = [context.Process(target=_process, args=(url, p * share, share if p < processes - 1
                                                       else entries - p * share, tasks, threads, loop, ready, go))
                for p in range(processes)]
    for child in children:
        child.start()
    for _ in children:
        ready.acquire()
    started = time.perf_counter()
    go.set()
    for child in children:
        child.join()
        assert child.exitcode == 0
    return time.perf_counter() - started


def _raw_copy(conn: psycopg.Connection, entries: int) -> float:
    """The same rows, hashed in Python and written by one COPY in one transaction: the ceiling."""
    prepared = [sample_entry(i) for i in range(entries)]
    conn.execute("TRUNCATE ledger_entry")
    conn.commit()
    started = time.perf_counter()
    moment = datetime.now(UTC)
    rows = []
    for seq, entry in enumerate(prepared):
        recorded = RecordedEntry(seq, moment, entry)
        rows.append(repository.entry_row(recorded, entry_leaf_hash(recorded)))
    with conn.cursor() as cur, cur.copy(f"COPY ledger_entry ({', '.join(repository.ENTRY_COLUMNS)}) "
                                        "FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.commit()
    return time.perf_counter() - started


def _server_copy(conn: psycopg.Connection, entries: int) -> float:
    """The same rows already rendered as COPY text: only the server's COPY and commit are timed."""
    moment = format_time(datetime.now(UTC)).encode()
    rows = []
    for seq in range(entries):
        prepared = prepare(sample_entry(seq))
        rows.append(copy_row(prepared, seq, moment, prepared.leaf_hash(seq, moment)))
    data = b"".join(rows)
    conn.execute("TRUNCATE ledger_entry")
    conn.commit()
    started = time.perf_counter()
    repository.copy_text(conn, data)
    conn.commit()
    return time.perf_counter() - started


def main(entries: int = 400_000, processes: int = 1, tasks: int = 4_000,
         threads: int = typer.Option(0, help="Blocking caller threads per process instead of asyncio tasks"),
         writer: str = typer.Option("loop", help="asyncio callers' writer: loop (LoopWriter) or thread (LedgerWriter)"),
         url: str = typer.Option(None, help="PostgreSQL URL")) -> None:
    if writer not in ("loop", "thread"):
        raise typer.BadParameter("--writer is loop or thread")
    database = bench_database(url)
    libpq = libpq_url(database.url)
    logged = _logged(libpq, entries, processes, tasks, threads, writer == "loop")
    with psycopg.connect(libpq) as conn:
        seqs, commits = conn.execute("SELECT count(DISTINCT seq) = max(seq) + 1 AND min(seq) = 0, "
                                     "count(DISTINCT recorded_at) FROM ledger_entry").fetchone() or (False, 0)
        assert seqs, "seq is not dense"
        raw = _raw_copy(conn, entries)
        server = _server_copy(conn, entries)
    rate, raw_rate = entries / logged, entries / raw
    callers = f"{threads} threads" if threads else f"{tasks} asyncio tasks ({writer} writer)"
    print(f"group commit: {entries:,} entries, {processes} writer process(es) x {callers}, ~{commits:,} commits "
          f"(~{entries / max(commits, 1):.0f} entries/commit): {logged:.2f} s = {rate:,.0f} entries/s")
    print(f"raw COPY of the same rows (hash + one COPY, one commit): {raw:.2f} s = {raw_rate:,.0f} entries/s")
    print(f"server-side ceiling (rows pre-rendered, only COPY + commit timed): {server:.2f} s = "
          f"{entries / server:,.0f} entries/s")
    print(f"ratio: {rate / raw_rate:.0%} of raw COPY, {rate * server / entries:.0%} of the server-side ceiling")


if __name__ == "__main__":
    typer.run(main)
