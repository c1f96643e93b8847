"""A real crash: ``dancu sync run`` as a subprocess, killed with SIGKILL after its first checkpoint, then rerun;
the tables must equal those of an uninterrupted run of the same file under a fresh source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dancu.db import Database
from dancu.sync import testdata
from dancu.sync.sources import Source
from tests.sync.conftest import COLUMNS, WriteFile, new_source


def _toml(path: Path, *sources: Source) -> Path:
    lines = []
    for s in sources:
        columns = ", ".join(f'{k} = "{v}"' for k, v in COLUMNS.items())
        lines += ["[[source]]", f'code = "{s.code}"', f'name = "{s.name}"', f'sector_key = "{s.sector_key}"',
                  f'identifier_column = "{s.identifier_column}"', f"identifier_pattern = '{s.identifier_pattern}'",
                  f"columns = {{ {columns} }}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _command(database_url: str, source: Source, path: Path, toml: Path, delay: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DANCU_DATABASE_URL": database_url}
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("dancu")), "sync", "run", source.code, str(path), "--sources", str(toml),
         "--chunk-size", "100", "--no-progress", "--chunk-delay", str(delay)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _checkpoint(database: Database, source: Source) -> int:
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT (checkpoint ->> 'offset')::bigint FROM job WHERE params ->> 'source' = :s"),
                           {"s": source.code}).first()
    return int(row[0]) if row else 0


STATE_PARTS = ("job state", "outcomes", "reasons", "sync records", "links", "log entries")


def _state(database: Database, source: Source) -> tuple[Any, ...]:
    with database.engine.connect() as conn:
        job = conn.execute(text("SELECT job_id, state, report FROM job WHERE params ->> 'source' = :s"),
                           {"s": source.code}).one()
        records = conn.execute(text("SELECT line_no, outcome, resident_id, reasons, sector_value, detail "
                                    "FROM sync_record WHERE job_id = :j ORDER BY line_no"), {"j": job.job_id}).all()
        links = conn.execute(text("SELECT resident_id, value, line_no FROM resident_sector_id "
                                  "WHERE sector_key = :k ORDER BY resident_id"), {"k": source.sector_key}).all()
        entries = conn.execute(text("SELECT purpose, result, request_hash FROM ledger_entry WHERE client_system = :c "
                                    "ORDER BY seq"), {"c": f"sync:{source.code}"}).all()
    # chunks commit on two connections, so their entries' order in the log may differ from run to run
    purposes = sorted((p.replace(f"job {job.job_id} ", ""), r, bytes(h)) for p, r, h in entries)
    return (job.state, job.report["outcomes"], job.report["reasons"], [tuple(r) for r in records],
            [tuple(r) for r in links], purposes)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sigkill_mid_file_then_rerun_equals_an_uninterrupted_run(
        database: Database, database_url: str, population: list[testdata.TrueResident], write_file: WriteFile,
        tmp_path: Path, suffix: str) -> None:
    killed, clean_run = new_source(), new_source()
    items = list(testdata.generate(population[:1000], killed, seed=7, noise_rate=0.5))
    path = write_file(killed, items, suffix)
    extent = len(items) if suffix == ".parquet" else path.stat().st_size  # the checkpoint's unit: records or bytes
    toml = _toml(tmp_path / "sources.toml", killed, clean_run)
    process = _command(database_url, killed, path, toml, delay=0.5)
    deadline = time.monotonic() + 60
    while _checkpoint(database, killed) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else b""
    done_before = _checkpoint(database, killed)
    assert 0 < done_before < extent  # killed mid-file, after at least one committed chunk
    for source in (killed, clean_run):
        finished = _command(database_url, source, path, toml, delay=0.0)
        assert finished.wait(timeout=120) == 0, finished.stderr.read() if finished.stderr else b""
    after_kill, uninterrupted = _state(database, killed), _state(database, clean_run)
    for name, got, want in zip(STATE_PARTS, after_kill, uninterrupted, strict=True):  # say which part differs
        if isinstance(got, list):
            assert got == want, (name, [g for g in got if g not in want][:5], [w for w in want if w not in got][:5])
        assert got == want, name
    assert after_kill[0] == "done"
