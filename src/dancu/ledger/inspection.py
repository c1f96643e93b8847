"""Inspection (thanh tra, kiểm tra, giám sát) and the citizen's access history.  Never commits.

The endpoints and commands over these functions are for inspectors (and, for the access history, the
resident concerned); they will be guarded when inspector and citizen authentication arrive.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from dancu.ledger import flags
from dancu.ledger import inspection_repository as repository
from dancu.ledger.errors import InvalidPeriod
from dancu.ledger.inspection_repository import VN_OFFSET, SearchFilter
from dancu.ledger.schemas import AccessOut, AccessPage, EntryOut, EntryPage, FlagOut, SystemReportOut

MAX_PAGE = 1_000
MAX_REPORT_DAYS = 366
CSV_COLUMNS = list(EntryOut.model_fields)


def vietnam_today() -> date:
    return (datetime.now(UTC) + VN_OFFSET).date()


def search(session: Session, where: SearchFilter, limit: int = 100, before: int | None = None) -> EntryPage:
    limit = max(1, min(limit, MAX_PAGE))
    items = [EntryOut.of(row) for row in repository.search(session, where, limit, before)]
    return EntryPage(items=items, next_before=items[-1].seq if len(items) == limit else None)


def csv_lines(session: Session, where: SearchFilter) -> Iterator[str]:
    """The matching entries as CSV text, header first, newest first; arrays joined with ';'."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(CSV_COLUMNS)
    for count, row in enumerate(repository.search_all(session, where), 1):
        entry = EntryOut.of(row).model_dump()
        out.writerow([";".join(v) if isinstance(v, list) else ("" if v is None else v)
                      for v in (entry[c] for c in CSV_COLUMNS)])
        if count % 1_000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# Days an inspector may ask about: far around any log, and far enough inside date's range that the report's
# arithmetic (a default 30-day window, a day's end in UTC, a history of earlier days) cannot overflow.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _within_range(**days: date | None) -> None:
    for name, day in days.items():
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidPeriod(f"Ngày {name} phải trong khoảng {EARLIEST_DAY} – {LATEST_DAY}.",
                                f"{name} must be between {EARLIEST_DAY} and {LATEST_DAY}", **{name: str(day)})


def system_report(session: Session, system: str, first: date | None, last: date | None,
                  today: date | None = None) -> SystemReportOut:
    _within_range(**{"from": first, "to": last})
    last = last or today or vietnam_today()
    first = first or last - timedelta(days=29)
    if not timedelta(0) <= last - first <= timedelta(days=MAX_REPORT_DAYS):
        raise InvalidPeriod(f"Cần from ≤ to và tối đa {MAX_REPORT_DAYS} ngày.",
                            f"need from <= to and at most {MAX_REPORT_DAYS} days", first=str(first), last=str(last))
    parts = repository.system_report(session, system, first, last)
    return SystemReportOut(system=system, first_day=first, last_day=last, **parts)


def misuse_flags(session: Session, day: date) -> list[FlagOut]:
    _within_range(date=day)
    return [FlagOut(system=f.system, day=f.day, kind=f.kind, explanation=f.explanation, figures=f.figures)
            for f in flags.flags_for(repository.system_days(session, day))]


def access_history(session: Session, personal_id: str, limit: int = 50, before: int | None = None) -> AccessPage:
    """Who used this resident's data, when, why and which fields; newest first."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = repository.access_history(session, personal_id, limit, before)
    items = [AccessOut.model_validate(dict(row._mapping)) for row in rows]
    return AccessPage(items=items, next_before=items[-1].seq if len(items) == limit else None)
