"""Where a job stands, when its chunks commit in any order (pure; stored in ``job.checkpoint``).

``{"offset", "line", "chunk"}`` is the longest run of committed chunks from the start of the file: the byte
offset (for Parquet, the record index) and physical lines after it, and the number of the next chunk.
``ahead`` maps each chunk committed past a gap (a parallel worker finished it first) to its end
``[offset, line]``; a resumed run seeks to ``offset``, numbers chunks from ``chunk`` and skips those in
``ahead``.  Chunk numbers mean the same lines in every run because a job keeps the chunk size it was created
with.
"""

from __future__ import annotations

from typing import Any

START: dict[str, Any] = {"offset": 0, "line": 0, "chunk": 0}
REPORT_COUNTS = ("records", "chunks", "linked_applied")
REPORT_TALLIES = ("outcomes", "reasons")


def is_done(point: dict[str, Any], number: int) -> bool:
    return number < int(point.get("chunk", 0)) or str(number) in point.get("ahead", {})


def advance(point: dict[str, Any], number: int, end: tuple[int, int]) -> dict[str, Any]:
    """The checkpoint once chunk ``number``, ending at ``end`` = (offset, line), is committed too."""
    ahead = {**point.get("ahead", {}), str(number): list(end)}
    chunk, offset, line = int(point.get("chunk", 0)), int(point["offset"]), int(point["line"])
    while str(chunk) in ahead:
        offset, line = ahead.pop(str(chunk))
        chunk += 1
    return {"offset": offset, "line": line, "chunk": chunk, **({"ahead": ahead} if ahead else {})}


def merge_report(report: dict[str, Any], add: dict[str, Any]) -> dict[str, Any]:
    """``report`` with one chunk's counts (and wall seconds) added."""
    merged: dict[str, Any] = {**empty_report(), **report}
    for key in REPORT_COUNTS:
        merged[key] = int(merged[key]) + int(add.get(key, 0))
    for key in REPORT_TALLIES:
        counts = dict(merged[key])
        for name, n in add.get(key, {}).items():
            counts[name] = counts.get(name, 0) + int(n)
        merged[key] = counts
    merged["seconds"] = round(float(merged["seconds"]) + float(add.get("seconds", 0.0)), 3)
    return merged


def empty_report() -> dict[str, Any]:
    return {"records": 0, "chunks": 0, "outcomes": {}, "reasons": {}, "seconds": 0.0, "linked_applied": 0}
