"""The review queue and job reports.  Never commits: the request or CLI command does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dancu.jobs.models import Job
from dancu.registry.errors import ResidentDeceased
from dancu.registry.models import Resident
from dancu.sync import repository as repo
from dancu.sync.errors import JobNotFound, ReviewClosed, ReviewItemNotFound
from dancu.sync.models import SyncRecord
from dancu.sync.schemas import JobReport, ReviewItem, ReviewPage

MAX_PAGE = 100


def job_report(session: Session, job_id: int) -> JobReport:
    job = repo.job(session, job_id)
    if job is None:
        raise JobNotFound(job_id)
    report: dict[str, Any] = job.report or {}
    seconds = float(report.get("seconds", 0.0))
    records = int(report.get("records", 0))
    return JobReport(job_id=job.job_id, job_key=job.job_key, source=job.params["source"], file=job.params.get("file"),
                     state=job.state, records=records, outcomes=report.get("outcomes", {}),
                     reasons=report.get("reasons", {}), seconds=seconds,
                     records_per_second=round(records / seconds, 1) if seconds else 0.0,
                     started_at=job.started_at, finished_at=job.finished_at, checkpoint=job.checkpoint)


def list_reviews(session: Session, *, job_id: int | None = None, source: str | None = None,
                 reason: str | None = None, state: str = "open", limit: int = 20, offset: int = 0) -> ReviewPage:
    limit = max(1, min(limit, MAX_PAGE))
    rows = repo.review_items(session, job_id=job_id, source=source, reason=reason, state=state, limit=limit + 1,
                             offset=max(0, offset))
    items = [_item(record, job) for record, job in rows[:limit]]
    return ReviewPage(items=items, limit=limit, offset=max(0, offset), has_more=len(rows) > limit)


def accept(session: Session, item_id: str, *, actor: str, note: str | None = None) -> ReviewItem:
    """Apply the record's sector identifier to its resident (replacing a different value, which goes to the
    history: the manager decided), with provenance, and close the item."""
    record, job = _open_item(session, item_id)
    resident = session.get(Resident, record.resident_id, with_for_update=True) if record.resident_id else None
    if resident is None or record.sector_value is None:
        raise ReviewItemNotFound(item_id)
    if resident.death_kind is not None:
        raise ResidentDeceased(resident.personal_id)
    now = datetime.now(UTC)
    repo.set_sector_id(session, resident.resident_id, job.params["sector_key"], record.sector_value,
                       source=f"sync:{job.params['source']}:{job.job_id}", job_id=job.job_id, line_no=record.line_no,
                       actor=actor, reason=note or f"review accepted: {', '.join(record.reasons)}", at=now)
    session.expire(resident, ["sector_ids", "sector_provenance"])
    _close(record, "accepted", actor, note, now)
    session.flush()
    return _item(record, job)


def reject(session: Session, item_id: str, *, actor: str, note: str | None = None) -> ReviewItem:
    """Close the item without touching the resident."""
    record, job = _open_item(session, item_id)
    _close(record, "rejected", actor, note, datetime.now(UTC))
    session.flush()
    return _item(record, job)


def _open_item(session: Session, item_id: str) -> tuple[SyncRecord, Job]:
    job_id, line_no = _parse_id(item_id)
    record = repo.review_item(session, job_id, line_no, lock=True)
    job = repo.job(session, job_id)
    if record is None or job is None or record.outcome != "review":
        raise ReviewItemNotFound(item_id)
    if record.review_state != "open":
        raise ReviewClosed(item_id, str(record.review_state))
    return record, job


def _close(record: SyncRecord, state: str, actor: str, note: str | None, at: datetime) -> None:
    record.review_state, record.reviewed_by, record.reviewed_at, record.review_note = state, actor, at, note


def _parse_id(item_id: str) -> tuple[int, int]:
    job, _, line = item_id.partition("-")
    if not (job.isdigit() and line.isdigit()) or len(job) > 18 or len(line) > 18:
        raise ReviewItemNotFound(item_id)
    return int(job), int(line)


def _item(record: SyncRecord, job: Job) -> ReviewItem:
    return ReviewItem(id=f"{record.job_id}-{record.line_no}", job_id=record.job_id, line_no=record.line_no,
                      source=job.params["source"], sector_key=job.params["sector_key"],
                      resident_id=record.resident_id, sector_value=record.sector_value, reasons=list(record.reasons),
                      detail=record.detail, state=str(record.review_state), reviewed_by=record.reviewed_by,
                      reviewed_at=record.reviewed_at, note=record.review_note)
