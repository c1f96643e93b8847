"""Readers: batches end on record boundaries, resume from a byte offset, and memory stays bounded."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from dancu.sync import readers
from dancu.sync.matching.records import Normaliser
from dancu.sync.sources import BUILT_IN
from dancu.sync.staging import stage_line

BHYT = BUILT_IN["bhyt"]
HEADER = "so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,ma_tinh,ma_the\n"


def _row(i: int) -> str:
    return f"0010850{i % 100000:05d},Nguyễn Văn An {i % 3000},12/04/1985,Nam,01,GD401{i % 10**10:010d}\n"


def test_csv_batches_resume_from_a_checkpoint_with_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(HEADER + _row(1) + '001085000002,"Lê Thị\nBình",1985,Nữ,01,GD40100000002\n' + _row(3) + _row(4),
                    encoding="utf-8")
    columns = BHYT.input_columns()
    first, second = readers.batches(path, columns, 2)
    assert [r.line_no for r in first.records] == [2, 3] and first.end_line == 4
    assert first.records[1].values is not None and first.records[1].values[1] == "Lê Thị\nBình"
    (resumed,) = readers.batches(path, columns, 2, first.end_offset, first.end_line)
    assert [r.line_no for r in resumed.records] == [r.line_no for r in second.records] == [5, 6]


def test_jsonl_bad_lines_are_reported_per_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"ho_ten": "An", "ma_the": 1}\nnot json\n\n[1]\n')
    (batch,) = readers.batches(path, BHYT.input_columns(), 10)
    assert [(r.line_no, r.error) for r in batch.records] == [(1, None), (2, "invalid_json"), (4, "not_an_object")]
    assert batch.records[0].values == (None, "An", None, None, None, "1")


def _peak(path: Path, rows: int) -> int:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "".join(_row(i) for i in range(rows)))
    normalise = Normaliser(BHYT, lambda code: (code, None))
    tracemalloc.start()
    count = 0
    for batch in readers.batches(path, BHYT.input_columns(), 1_000):
        count += len([stage_line(1, r.line_no, normalise(r.values)) for r in batch.records if r.values])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == rows
    return peak


def test_memory_stays_bounded_whatever_the_file_size(tmp_path: Path) -> None:
    small = _peak(tmp_path / "small.csv", 10_000)
    big = _peak(tmp_path / "big.csv", 40_000)  # 4 times the file, the same memory
    assert big < small * 1.1 + 200_000, (small, big)
    assert big < 3_000_000
