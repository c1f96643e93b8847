"""A pushed batch made canonical (pure) and spooled by its hash (files only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.errors import ValidationFailed
from dancu.sync.push import domain, spool
from dancu.sync.sources import BUILT_IN

BHYT = BUILT_IN["bhyt"]
COLUMNS = sorted(domain.columns_of(BHYT))
records = st.lists(st.dictionaries(st.sampled_from(COLUMNS), st.one_of(st.none(), st.text(max_size=20)), max_size=6),
                   min_size=1, max_size=20)


@given(records)
def test_key_order_and_nulls_do_not_change_the_batch(batch: list[dict[str, str | None]]) -> None:
    shuffled = [dict(reversed(list(r.items()))) | {c: None for c in COLUMNS if c not in r} for r in batch]
    one, two = domain.batch(BHYT, batch), domain.batch(BHYT, shuffled)
    assert one.data == two.data and one.sha256 == two.sha256 and one.records == len(batch)
    assert one.data.count(b"\n") == len(batch)  # one line per record, whatever the text holds


def test_unknown_columns_and_bad_text_are_named_per_record() -> None:
    with pytest.raises(ValidationFailed) as caught:
        domain.batch(BHYT, [{"ho_ten": "A"}, {"ho_ten": "B", "so_the": "1"}, {"ho_ten": "\ud800"}])
    errors = caught.value.extra["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("records.1.so_the", "unknown_column"),
                                                          ("records.2", "invalid_text")]
    with pytest.raises(ValidationFailed) as many:
        domain.batch(BHYT, [{"x": "1"}] * 150)
    assert len(many.value.extra["errors"]) == domain.MAX_ERRORS + 1
    assert many.value.extra["errors"][-1]["code"] == "more_errors"


def test_the_personal_ids_named_are_read_as_the_pipeline_reads_them() -> None:
    batch = domain.batch(BHYT, [{"so_dinh_danh": " 001.085-000 123 "}, {"so_dinh_danh": "001085000123"},
                                {"so_dinh_danh": "12345"}, {"ho_ten": "no id"}, {"so_dinh_danh": "079190000001"}])
    assert batch.personal_ids == ("001085000123", "079190000001")


def test_a_batch_is_spooled_once_under_its_hash(tmp_path: Path) -> None:
    batch = domain.batch(BHYT, [{"ho_ten": "Vũ Thị Lan", "ma_the": "GD4010012345678"}])
    path = spool.spool(tmp_path, batch)
    assert path == tmp_path / "bhyt" / f"{batch.sha256}.jsonl" and path.read_bytes() == batch.data
    mtime = path.stat().st_mtime_ns
    assert spool.spool(tmp_path, batch) == path and path.stat().st_mtime_ns == mtime  # not rewritten
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no partial file left
    assert spool.job_key(batch) == f"sync:bhyt:{batch.sha256}"
