"""Pushed batches on disk: ``<push dir>/<source>/<sha256>.jsonl``, written once (atomically, fsynced), then
synchronised by the ordinary pipeline.

The file is the job's input, like an uploaded sector file: :func:`dancu.sync.jobs.run` reads it, names the job by
its content, resumes it after a crash, and stage (b) reads it again to learn weights.  It is kept with the job.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from dancu.db import Database
from dancu.sync import flows, jobs
from dancu.sync.push.domain import MAX_RECORDS, Batch


def path_of(directory: Path, batch: Batch) -> Path:
    return directory / batch.source.code / f"{batch.sha256}.jsonl"


def spool(directory: Path, batch: Batch) -> Path:
    """The batch's file, written if it is not there yet (a same-named file holds the same bytes)."""
    path = path_of(directory, batch)
    if path.is_file() and path.stat().st_size == len(batch.data):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{batch.sha256}.{uuid.uuid4().hex}.partial")
    try:
        with partial.open("wb") as stream:
            stream.write(batch.data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def job_key(batch: Batch) -> str:
    return jobs.job_key(batch.source, batch.sha256)


def synchronise(database: Database, directory: Path, batch: Batch) -> jobs.RunResult:
    """Spool and run the batch (blocking: call it in a worker thread).  One chunk holds the whole batch, so its
    links, review items, outcome rows, exchange-log entry and checkpoint commit in one transaction; then stage (b)
    matches what the ID did not place (when the registry's key index is built).  A batch already synchronised
    returns its stored report and changes nothing."""
    path = spool(directory, batch)
    # one chunk: one connection
    result = flows.synchronise(database, batch.source, path, chunk_size=MAX_RECORDS, workers=1).stage_a
    assert result.job_key == job_key(batch), "the pipeline names a job by its file's SHA-256"
    return result
