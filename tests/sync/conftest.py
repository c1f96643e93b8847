"""A small synthetic population shared by the sync tests, and helpers to write sector files for it.

Sync jobs commit (one transaction per chunk), so every test uses its own source code and sector key: tests
never see each other's links even though they share residents.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from dancu.db import Database
from dancu.sync import testdata
from dancu.sync.sources import Source
from dancu.synth import loader, rows

SEED = 940_001
RESIDENTS = 2_000
COLUMNS = {"personal_id": "so_dinh_danh", "full_name": "ho_ten", "date_of_birth": "ngay_sinh",
           "sex": "gioi_tinh", "province": "ma_tinh"}


def new_source() -> Source:
    tag = uuid.uuid4().hex[:10]
    return Source(f"t{tag}", "test source", f"k{tag}", "ma_so", COLUMNS, r"^[0-9A-Z]{10,15}$")


@pytest.fixture(scope="session")
def population(database: Database) -> list[testdata.TrueResident]:
    loader.load_population(database, RESIDENTS, SEED, progress=False, chunk_size=1_000)
    with database.raw_connection() as conn:
        return list(testdata.fetch_residents(conn, limit=RESIDENTS, where="provenance -> '*' ->> 'source' = %(s)s",
                                             params={"s": rows.source_of(SEED)}))


@pytest.fixture
def source() -> Source:
    return new_source()


WriteFile = Callable[[Source, list[testdata.Labelled], str], Path]


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    def write(source: Source, records: list[testdata.Labelled], suffix: str = ".csv") -> Path:
        path = tmp_path / f"{source.code}-{uuid.uuid4().hex[:6]}{suffix}"
        testdata.write(path, source, records, row_group=300)  # Parquet: row groups that chunks do not align with
        return path
    return write
