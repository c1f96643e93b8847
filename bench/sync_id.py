"""ID-keyed sector synchronisation vs raw PostgreSQL COPY of the same file into a bare table.

    .venv/bin/python bench/sync_id.py --records 1000000 [--noise 0.0] [--chunk-size 100000]

Uses a persistent embedded server under ``--data-dir`` (default .dancu/bench_sync), or ``--url``: the synthetic
population (``--records`` residents, seed 2026) is loaded once and reused by later runs.  Each run writes a
health-insurance (bhyt) CSV for those residents (``dancu.sync.testdata``; ``--noise`` = share of noisy records),
then times, in the same process and database:

* ``dancu sync run``: checksum, chunked read, COPY of the raw bytes into the TEMP stage, normalisation and the
  stage-(a) match in SQL, the new rows of ``resident_sector_id`` (sync_record rows only for records that are
  not linked), the exchange-log entry and the checkpoint of every chunk — end to end, with per-phase times;
* a raw ``COPY`` of the same file into a bare table of text columns (no index) — issue 6's baseline; best of
  three, since a single COPY of a second or less varies a lot on a shared machine;
* a raw ``COPY`` of the links the run wrote into the same link table (``resident_sector_id``, under a scratch
  key, then removed), split over as many concurrent sessions as the run has workers — the brief's "COPY into
  the same table": what merely storing the result costs.  Its time
  against the bare COPY's is the *ceiling*: the ratio a sync would reach if reading, finding and checking the
  records cost nothing and only the links had to be stored.

Every run uses a new sector key (``health_insurance_number_<n>``) so each one links every resident afresh; the
previous runs' bench keys are deleted first (untimed) so the sector-id table does not grow run after run.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import psycopg

from dancu.catalogs.service import load_packaged_catalogs
from dancu.db import Database
from dancu.db import migrate as migrations
from dancu.db.embedded import embedded_server_url
from dancu.sync import jobs, testdata
from dancu.sync.sources import BUILT_IN, Source
from dancu.synth.loader import load_population


def prepare(url: str, residents: int, seed: int) -> Database:
    migrations.upgrade(url)
    database = Database(url, pool_size=2)
    with database.sessions.begin() as session:
        load_packaged_catalogs(session)
    started = time.perf_counter()
    result = load_population(database, residents, seed, progress=False)
    if not result.already_done:
        print(f"loaded {result.residents:,} synthetic residents in {time.perf_counter() - started:.0f} s")
    return database


def bench_source(database: Database) -> Source:
    with database.raw_connection() as conn:
        row = conn.execute("SELECT count(*) FROM job WHERE kind = 'sync'").fetchone()
    n = int(row[0]) if row else 0
    bhyt = BUILT_IN["bhyt"]
    return Source(f"bhyt_bench{n}", bhyt.name, f"health_insurance_number_{n}", bhyt.identifier_column, bhyt.columns,
                  bhyt.identifier_pattern)


def forget_old_runs(database: Database) -> None:
    with database.raw_connection() as conn:
        conn.execute("DELETE FROM resident_sector_id WHERE sector_key LIKE 'health_insurance_number\\_%'")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE resident_sector_id")


def link_copy(database: Database, sector_key: str, sessions: int) -> tuple[int, float]:
    """COPY the run's links back into ``resident_sector_id`` under a scratch key, split over ``sessions``
    concurrent sessions as the run is over its workers: (rows, seconds)."""
    scratch = f"{sector_key}_copy"
    with database.raw_connection() as conn:
        with conn.cursor() as cur:
            rows = bytearray()
            with cur.copy("COPY (SELECT resident_id, %s, value, source, job_id, line_no, linked_at "
                          "FROM resident_sector_id WHERE sector_key = %s) TO STDOUT", (scratch, sector_key)) as out:
                for block in out:
                    rows += block
        conn.commit()
    lines = bytes(rows).splitlines(keepends=True)
    parts = [b"".join(lines[i::sessions]) for i in range(sessions)]
    with ExitStack() as stack:
        connections = [stack.enter_context(database.raw_connection()) for _ in parts]
        for conn in connections:
            conn.execute("SET synchronous_commit = off")  # as the sync job's sessions
            conn.commit()

        def store(conn: psycopg.Connection, part: bytes) -> None:
            with conn.cursor() as cur, cur.copy("COPY resident_sector_id FROM STDIN") as copy:
                copy.write(part)
            conn.commit()

        started = time.perf_counter()
        with ThreadPoolExecutor(len(parts)) as pool:
            list(pool.map(store, connections, parts))
        seconds = time.perf_counter() - started
        connections[0].execute("DELETE FROM resident_sector_id WHERE sector_key = %s", (scratch,))
        connections[0].commit()
    return len(lines), seconds


def raw_copy(database: Database, path: Path, columns: list[str]) -> float:
    with database.raw_connection() as conn:
        conn.execute("DROP TABLE IF EXISTS bench_sync_bare")
        conn.execute(f"CREATE TABLE bench_sync_bare ({', '.join(f'{c} text' for c in columns)})")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_sync_bare FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                path.open("rb") as stream:
            while block := stream.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_sync_bare")
        conn.commit()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--chunk-size", type=int, default=jobs.DEFAULT_CHUNK_SIZE)
    parser.add_argument("--workers", type=int, default=jobs.DEFAULT_WORKERS)
    parser.add_argument("--data-dir", type=Path, default=Path(".dancu/bench_sync"))
    parser.add_argument("--url", help="SQLAlchemy URL of an existing database to use instead")
    args = parser.parse_args()
    url = args.url or embedded_server_url(args.data_dir, database="dancu_bench_sync")
    database = prepare(url, args.records, args.seed)
    source = bench_source(database)
    forget_old_runs(database)
    with tempfile.TemporaryDirectory(prefix="dancu-sync-bench-") as folder:
        path = Path(folder) / "bhyt.csv"
        with database.raw_connection() as conn:
            rows = testdata.generate(testdata.fetch_residents(conn, limit=args.records), source, seed=args.seed,
                                     noise_rate=args.noise)
            count = testdata.write(path, source, rows)
        size = path.stat().st_size
        print(f"file             : {count:,} records, {size / 1e6:,.0f} MB, noise {args.noise:.0%}")
        result = jobs.run(database, source, path, chunk_size=args.chunk_size, workers=args.workers)
        rate = result.records / result.seconds
        print(f"dancu sync run   : {result.records:,} records in {result.seconds:6.2f} s = {rate:9,.0f}/s  "
              f"{dict(sorted(result.report['outcomes'].items()))}, {result.report['linked_applied']:,} applied, "
              f"{result.chunks} chunks ({result.slow_chunks} parsed line by line), {result.fast_linked:,} by the fast "
              f"statement, {args.workers} workers")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baselines' own buffers
        print("  phases (s)     : " + ", ".join(f"{k} {v:.2f}" for k, v in result.phases.items())
              + f" (summed over the {args.workers} workers)")
        raw = min(raw_copy(database, path, [c for c in source.input_columns() if c]) for _ in range(3))
        raw_rate = count / raw
        links, stored = link_copy(database, source.sector_key, args.workers)
        print(f"raw COPY (bare)  : {count:,} records in {raw:6.2f} s = {raw_rate:9,.0f}/s  (file into a bare table, "
              "best of 3)")
        print(f"raw COPY (links) : {links:,} links in {stored:6.2f} s = {links / stored:9,.0f}/s  (the run's links "
              f"into resident_sector_id, {args.workers} sessions at once as the run's workers)")
        print(f"ratio dancu/raw  : {rate / raw_rate:.1%} of the bare-table COPY (issue 6 target ≥ 40%), "
              f"{rate / (links / stored):.1%} of the COPY of its links into the same table")
        print(f"ceiling          : {raw / stored:.1%} of the bare-table COPY: a sync that read, found and checked "
              "every record for nothing and only stored its links (bare COPY time / link COPY time)")
        print(f"36 million       : dancu {36e6 / rate / 60:,.1f} min, raw COPY {36e6 / raw_rate / 60:,.1f} min")
        print(f"peak RSS         : {peak:,.0f} MB during the run (file {size / 1e6:,.0f} MB; generation of the "
              "file included)")
    database.dispose()


if __name__ == "__main__":
    main()
