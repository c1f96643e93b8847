"""Matching quality and time: dancu (stage a by ID + stage b demographic) vs Splink 4 (DuckDB) on the same data.

    .venv/bin/python bench/match_quality.py --residents 1000000 --records 150000 [--skip-splink]

1. A persistent embedded server under ``--data-dir`` (default .dancu/bench_match) with ``--residents`` synthetic
   residents (seed 2026, loaded once) and the blocking-key index (``dancu sync index-keys``, built once, timed).
2. A health-insurance file of ``--records`` residents spread over the registry (``dancu.sync.testdata``):
   ``--noise`` of the records carry one noise kind (ID kinds weighted ×3: missing, mistyped, swapped digits, a
   relative's ID; and every demographic kind), half of those a second, demographic one; ``--absent`` of the
   records are people the registry does not hold.  Each line is labelled with its true resident (0: none).
3. dancu: ``jobs.run`` (stage a) then ``run_stage_b``; a record counts as predicted linked to the resident it is
   linked to (review and unmatched are "no link").
4. Splink 4 in its own virtualenv (``bench/requirements-splink.txt``, created at ``--splink-venv`` on first use)
   on the same records and the registry exported from PostgreSQL, normalised the same way dancu's records are
   (folded names, 2025 province codes); see ``bench/match_quality_splink.py`` for its settings.  Its time counts
   from reading the two CSV files to the clustered links; the export from PostgreSQL is shown apart.

Precision = right links / links; recall = right links / records whose person is in the registry.
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from dancu.catalogs.service import load_packaged_catalogs
from dancu.db import Database
from dancu.db import migrate as migrations
from dancu.db.embedded import embedded_server_url
from dancu.kit.text import fold
from dancu.sync import jobs, testdata
from dancu.sync.matching import index
from dancu.sync.matching.stage_b import run_stage_b
from dancu.sync.sources import BUILT_IN, Source
from dancu.synth import tables as synth_tables
from dancu.synth.loader import load_population

ROOT = Path(__file__).resolve().parent
KINDS = testdata.ID_KINDS * 3 + testdata.DEMOGRAPHIC_KINDS


def prepare(url: str, residents: int, seed: int) -> Database:
    migrations.upgrade(url)
    database = Database(url, pool_size=2)
    with database.sessions.begin() as session:
        load_packaged_catalogs(session)
    result = load_population(database, residents, seed, progress=False)
    print(f"registry         : {residents:,} residents ({'already loaded' if result.already_done else 'loaded'})")
    with database.raw_connection() as conn:
        built = index.build(conn)
    print(f"key index        : {'already built' if built.already_done else f'{built.keys:,} keys for '}"
          f"{'' if built.already_done else f'{built.residents:,} residents in {built.seconds:.1f} s'} (one-off)")
    return database


def bench_source(conn: psycopg.Connection) -> Source:
    row = conn.execute("SELECT count(*) FROM job WHERE kind = 'sync'").fetchone()
    n = int(row[0]) if row else 0
    bhyt = BUILT_IN["bhyt"]
    return Source(f"bhyt_match{n}", bhyt.name, f"health_insurance_number_m{n}", bhyt.identifier_column,
                  bhyt.columns, bhyt.identifier_pattern)


def write_file(conn: psycopg.Connection, source: Source, folder: Path, args: argparse.Namespace) -> dict[int, int]:
    step = max(1, args.residents // args.records)
    people = testdata.fetch_residents(conn, limit=args.records, where="resident_id %% %(step)s = 0",
                                      params={"step": step})
    rows = testdata.generate(people, source, seed=args.seed, noise_rate=args.noise, kinds=KINDS, extra_rate=0.5,
                             absent_rate=args.absent)
    testdata.write(folder / "records.csv", source, rows, labels=folder / "labels.csv")
    with (folder / "labels.csv").open() as stream:
        return {int(line): int(rid) for line, rid, _noise in csv.reader(stream)}


def run_dancu(database: Database, source: Source, path: Path,
              chunk_size: int) -> tuple[dict[int, int], float, dict[str, object]]:
    started = time.perf_counter()
    result = jobs.run(database, source, path, chunk_size=chunk_size)
    stage_a = time.perf_counter() - started
    with database.raw_connection() as conn:
        counts = run_stage_b(conn, result.job_id, source=source)
        conn.commit()
        seconds = time.perf_counter() - started
        links = {int(line): int(rid) for line, rid in conn.execute(
            """SELECT line_no, resident_id FROM sync_record WHERE job_id = %(job)s AND outcome = 'linked'
               UNION ALL SELECT line_no, resident_id FROM resident_sector_id WHERE job_id = %(job)s""",
            {"job": result.job_id})}  # stage (a) keeps no sync_record row for a record it links
        outcomes = dict(conn.execute(
            """SELECT outcome || coalesce(':' || reasons[1], ''), count(*) FROM sync_record WHERE job_id = %s
               GROUP BY 1 ORDER BY 2 DESC LIMIT 12""", (result.job_id,)).fetchall())
    return links, seconds, {"stage_a_s": round(stage_a, 1), "stage_b_s": round(seconds - stage_a, 1),
                            "stage_b": counts, "outcomes": outcomes}


def export_for_splink(conn: psycopg.Connection, source: Source, folder: Path) -> float:
    """The registry's matching fields (folded name split, dob parts, 2025 province) as CSV for Splink."""
    started = time.perf_counter()
    sql = """COPY (SELECT resident_id AS unique_id, personal_id, name_folded, dob_year, dob_month, dob_day, sex,
                          permanent_province AS province FROM resident) TO STDOUT (FORMAT csv, HEADER true)"""
    with conn.cursor() as cur, cur.copy(sql) as copy, (folder / "residents_raw.csv").open("wb") as out:
        for block in copy:
            out.write(block)
    _split_names(folder / "residents_raw.csv", folder / "residents.csv", "name_folded", folded=True)
    with (folder / "provinces.csv").open("w", newline="") as out:
        csv.writer(out).writerows((p.code, p.new_code) for p in synth_tables.PROVINCES)
    return time.perf_counter() - started


def _split_names(src: Path, dst: Path, column: str, folded: bool) -> None:
    with src.open(newline="") as inp, dst.open("w", newline="") as out:
        reader = csv.DictReader(inp)
        fields = [f for f in (reader.fieldnames or []) if f != column] + ["family", "middle", "given"]
        writer = csv.DictWriter(out, fields)
        writer.writeheader()
        for row in reader:
            words = (row.pop(column) if folded else fold(row.pop(column))).split()
            writer.writerow({**row, "family": words[0] if words else "", "given": words[-1] if words else "",
                             "middle": " ".join(words[1:-1])})


def run_splink(folder: Path, venv: Path, source: Source, threads: int) -> tuple[dict[int, int], float]:
    python = venv / "bin/python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements-splink.txt")],
                       check=True)
    columns = [source.columns[f] for f in ("personal_id", "full_name", "date_of_birth", "sex", "province")]
    out = subprocess.run([str(python), str(ROOT / "match_quality_splink.py"), str(folder), *columns, str(threads)],
                         check=True, capture_output=True, text=True)
    seconds = float(out.stdout.strip().splitlines()[-1])
    with (folder / "splink_links.csv").open() as stream:
        reader = csv.reader(stream)
        next(reader)
        return {int(line): int(rid) for line, rid, _p in reader}, seconds


def quality(links: dict[int, int], truth: dict[int, int]) -> tuple[float, float, float]:
    right = sum(1 for line, rid in links.items() if truth.get(line) == rid)
    present = sum(1 for rid in truth.values() if rid)
    precision = right / len(links) if links else 1.0
    recall = right / present if present else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=150_000)
    parser.add_argument("--noise", type=float, default=0.6)
    parser.add_argument("--absent", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk-size", type=int, default=20_000, help="stage (a) records per transaction")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads for Splink (the machine's cores)")
    parser.add_argument("--data-dir", type=Path, default=Path(".dancu/bench_match"))
    parser.add_argument("--work-dir", type=Path, default=Path(".dancu/bench_match/work"))
    parser.add_argument("--splink-venv", type=Path, default=Path(".dancu/splink-venv"))
    parser.add_argument("--skip-splink", action="store_true")
    args = parser.parse_args()
    database = prepare(embedded_server_url(args.data_dir, database="dancu_bench_match"), args.residents, args.seed)
    folder = args.work_dir
    folder.mkdir(parents=True, exist_ok=True)
    with database.raw_connection() as conn:
        source = bench_source(conn)
        truth = write_file(conn, source, folder, args)
    noisy = sum(1 for _ in open(folder / "labels.csv") if ",clean" not in _)  # noqa: SIM115
    print(f"sector file      : {len(truth):,} records, {noisy:,} noisy, {sum(1 for r in truth.values() if not r):,} "
          "not in the registry")
    links, seconds, info = run_dancu(database, source, folder / "records.csv", args.chunk_size)
    p, r, f1 = quality(links, truth)
    print(f"dancu            : precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  time {seconds:6.1f} s  {info}")
    if not args.skip_splink:
        with database.raw_connection() as conn:
            exported = export_for_splink(conn, source, folder)
        splink_links, splink_seconds = run_splink(folder, args.splink_venv, source, args.threads)
        p, r, f1 = quality(splink_links, truth)
        print(f"splink 4 duckdb  : precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  time {splink_seconds:6.1f} s  "
              f"(+ {exported:.1f} s exporting the registry)")
    print(f"peak RSS (dancu process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    database.dispose()


if __name__ == "__main__":
    main()
