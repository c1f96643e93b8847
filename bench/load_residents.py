"""Synthetic population load vs raw PostgreSQL COPY of the same resident rows into a bare table.

    .venv/bin/python bench/load_residents.py --residents 200000 [--index-costs]

On a fresh database (a throw-away embedded server, or a new database on DANCU_DATABASE_URL's server):
migrate, time ``dancu.synth.loader.load_population`` (generation + ID numbers + COPY into household,
resident, resident_change, personal_id_number, with every index), then export the resident rows it stored
and time a plain ``COPY`` of those same rows and columns into a table with no indexes or constraints.
``--index-costs`` also times the same COPY into a copy of ``resident`` carrying one index at a time.
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import AbstractContextManager

import psycopg

from dancu.db import Database
from dancu.db import migrate as migrations
from dancu.db.scratch import scratch_database
from dancu.synth.loader import DEFAULT_CHUNK_SIZE, load_population
from dancu.synth.rows import RESIDENT_COLUMNS

COLUMNS = ", ".join(RESIDENT_COLUMNS)


def fresh_database() -> AbstractContextManager[str]:
    return scratch_database(os.environ.get("DANCU_DATABASE_URL"), prefix="dancu_bench")


def export_residents(conn: psycopg.Connection) -> bytes:
    with conn.cursor() as cur, cur.copy(f"COPY resident ({COLUMNS}) TO STDOUT") as copy:
        return b"".join(bytes(block) for block in copy)


def timed_copy(conn: psycopg.Connection, table: str, data: bytes, block: int = 1 << 20) -> float:
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur, cur.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy:
        for offset in range(0, len(data), block):
            copy.write(data[offset : offset + block])
    return time.perf_counter() - started


def index_costs(conn: psycopg.Connection, data: bytes, bare_seconds: float) -> None:
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'resident' ORDER BY indexname"
    ).fetchall()
    for name, definition in indexes:
        conn.execute("DROP TABLE IF EXISTS resident_one_index")
        conn.execute("CREATE TABLE resident_one_index (LIKE resident)")
        conn.execute(definition.replace(f"INDEX {name} ON public.resident", f"INDEX {name}_x ON resident_one_index"))
        conn.commit()
        seconds = timed_copy(conn, "resident_one_index", data)
        print(f"  + {name:32s} {seconds - bare_seconds:6.2f} s extra")
    conn.execute("DROP TABLE IF EXISTS resident_one_index")
    conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--index-costs", action="store_true", help="time each resident index on its own")
    args = parser.parse_args()
    with fresh_database() as url:
        migrations.upgrade(url)
        database = Database(url, pool_size=2)
        result = load_population(database, args.residents, args.seed, progress=False, chunk_size=args.chunk_size)
        dancu_rate = result.residents / result.seconds
        print(f"dancu synth load : {result.residents:,} residents in {result.seconds:6.2f} s = {dancu_rate:9,.0f}/s"
              "  (generation + ID numbers + 4 tables + indexes + history)")
        with database.raw_connection() as conn:
            data = export_residents(conn)
            conn.execute("CREATE TABLE resident_bare (LIKE resident)")  # no indexes, no constraints but NOT NULL
            conn.commit()
            bare = timed_copy(conn, "resident_bare", data)
            raw_rate = result.residents / bare
            print(f"raw COPY (bare)  : {result.residents:,} residents in {bare:6.2f} s = {raw_rate:9,.0f}/s"
                  f"  ({len(data) / 1e6:,.0f} MB of the same resident rows)")
            print(f"ratio dancu/raw  : {dancu_rate / raw_rate:.1%}")
            if args.index_costs:
                index_costs(conn, data, bare)
        database.dispose()


if __name__ == "__main__":
    main()
