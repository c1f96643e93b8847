"""SQL of inspection (search, reports, flag counts) and of the citizen's access history.

Days are Vietnam days (UTC+7, no daylight saving); time ranges are instants.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from dancu.ledger.flags import UNKNOWN_ID_CODES, SystemDay
from dancu.ledger.repository import ENTRY_COLUMNS

LOCAL = "((recorded_at AT TIME ZONE 'UTC') + interval '7 hours')"
VN_OFFSET = timedelta(hours=7)


@dataclass(frozen=True)
class SearchFilter:
    client_system: str | None = None
    organisation: str | None = None  # INSTANCE/CLASS/CODE: every subsystem of the member
    personal_id: str | None = None
    service: str | None = None
    purpose: str | None = None
    result: str | None = None
    error_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses, params = ["TRUE"], {}
        for column in ("client_system", "service", "purpose", "result", "error_code"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{column} = :{column}")
                params[column] = value
        if self.organisation:
            clauses.append(r"client_system LIKE :org_prefix ESCAPE '\'")
            escaped = self.organisation.rstrip("/").replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            params["org_prefix"] = escaped + "/%"
        if self.personal_id:
            clauses.append("personal_ids @> ARRAY[CAST(:personal_id AS text)]")
            params["personal_id"] = self.personal_id
        if self.since:
            clauses.append("recorded_at >= :since")
            params["since"] = self.since
        if self.until:
            clauses.append("recorded_at < :until")
            params["until"] = self.until
        return " AND ".join(clauses), params


def search_sql(where: SearchFilter, before: int | None) -> tuple[str, dict[str, Any]]:
    """:func:`search`'s statement (``:limit`` still to bind) and its parameters.

    With a resident in the filter, the entries naming them are found first, through the GIN index, and only
    then ordered (a materialised CTE, see :data:`ACCESS_HISTORY_SQL`)."""
    sql, params = where.where()
    if before is not None:
        sql += " AND seq < :before"
        params["before"] = before
    columns = ", ".join(ENTRY_COLUMNS)
    if where.personal_id:
        return (f"WITH hits AS MATERIALIZED (SELECT {columns} FROM ledger_entry WHERE {sql}) "
                f"SELECT {columns} FROM hits ORDER BY seq DESC LIMIT :limit"), params
    return f"SELECT {columns} FROM ledger_entry WHERE {sql} ORDER BY seq DESC LIMIT :limit", params


def search(session: Session, where: SearchFilter, limit: int, before: int | None) -> list[Any]:
    """Entries matching ``where``, newest first, with seq below ``before`` (keyset pagination)."""
    sql, params = search_sql(where, before)
    return list(session.execute(text(sql), {**params, "limit": limit}))


def search_all(session: Session, where: SearchFilter, chunk: int = 5_000) -> Iterator[Any]:
    before = None
    while True:
        rows = search(session, where, chunk, before)
        yield from rows
        if len(rows) < chunk:
            return
        before = rows[-1].seq


def _range(system: str, first: date, last: date) -> dict[str, Any]:
    """The instants of Vietnam days ``first`` .. ``last`` inclusive."""
    start = datetime(first.year, first.month, first.day) - VN_OFFSET
    end = datetime(last.year, last.month, last.day) + timedelta(days=1) - VN_OFFSET
    return {"system": system, "start": start.isoformat() + "+00:00", "end": end.isoformat() + "+00:00"}


_SYSTEM_RANGE = "client_system = :system AND recorded_at >= CAST(:start AS timestamptz) " \
                "AND recorded_at < CAST(:end AS timestamptz)"


def system_report(session: Session, system: str, first: date, last: date) -> dict[str, list[Any]]:
    params = _range(system, first, last)
    queries = {
        "days": f"SELECT CAST({LOCAL} AS date) AS day, count(*) AS requests, count(error_code) AS errors "
                f"FROM ledger_entry WHERE {_SYSTEM_RANGE} GROUP BY 1 ORDER BY 1",
        "denials": f"SELECT error_code, count(*) AS count FROM ledger_entry WHERE {_SYSTEM_RANGE} "
                   "AND error_code IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1",
        "fields": f"SELECT f AS field, count(*) AS count FROM ledger_entry, unnest(fields_disclosed) AS f "
                  f"WHERE {_SYSTEM_RANGE} GROUP BY 1 ORDER BY 2 DESC, 1",
        "purposes": f"SELECT purpose, legal_basis, count(*) AS count FROM ledger_entry WHERE {_SYSTEM_RANGE} "
                    "GROUP BY 1, 2 ORDER BY 3 DESC, 1",
        "services": f"SELECT service, result, count(*) AS count FROM ledger_entry WHERE {_SYSTEM_RANGE} "
                    "GROUP BY 1, 2 ORDER BY 3 DESC, 1",
    }
    return {name: [dict(row._mapping) for row in session.execute(text(sql), params)]
            for name, sql in queries.items()}


def system_days(session: Session, day: date, history_days: int = 28) -> list[SystemDay]:
    """For every system active on ``day``: its counts that day and its daily volumes before."""
    params = {**_range("", day - timedelta(days=history_days), day), "day": day, "codes": list(UNKNOWN_ID_CODES)}
    rows = session.execute(text(f"""
        WITH daily AS (
            SELECT client_system, CAST({LOCAL} AS date) AS day, count(*) AS requests,
                   count(*) FILTER (WHERE extract(hour FROM {LOCAL}) >= 22 OR extract(hour FROM {LOCAL}) < 6)
                       AS off_hours,
                   count(*) FILTER (WHERE error_code = ANY(:codes)) AS unknown_ids
            FROM ledger_entry
            WHERE kind = 'exchange' AND recorded_at >= CAST(:start AS timestamptz)
              AND recorded_at < CAST(:end AS timestamptz)
            GROUP BY 1, 2)
        SELECT client_system, day, requests, off_hours, unknown_ids FROM daily
        WHERE client_system IN (SELECT client_system FROM daily WHERE day = :day)
        ORDER BY 1, 2"""), params)
    by_system: dict[str, dict[date, Any]] = {}
    for row in rows:
        by_system.setdefault(row.client_system, {})[row.day] = row
    out = []
    for system, days in by_system.items():
        today = days[day]
        history = tuple(days[d].requests if d in days else 0
                        for d in (day - timedelta(days=n) for n in range(history_days, 0, -1)))
        out.append(SystemDay(system, day, today.requests, today.off_hours, today.unknown_ids, history))
    return out


# The resident's entries are found first, through the GIN index on personal_ids, and only then ordered and
# cut to the page: a materialised CTE, because left to itself the planner walks every monthly partition's
# primary key backwards (Merge Append), filtering, until it has a page — it takes a resident to be in one entry
# of 200 — which for the usual resident, in a few dozen entries of millions, reads the whole log (on 400,000
# entries over 12 months: 17,381 pages and 82 ms for 2 rows, against 48 pages and 0.3 ms).  A resident named
# in very many entries pays for all of them here instead; that is the rare case.
ACCESS_HISTORY_SQL = """
    WITH hits AS MATERIALIZED (
        SELECT seq, recorded_at, client_system, relaying_platform, end_user, service, purpose, legal_basis,
               fields_disclosed, result, error_code
        FROM ledger_entry
        WHERE personal_ids @> ARRAY[CAST(:pid AS text)] AND kind = 'exchange'
          AND (CAST(:before AS bigint) IS NULL OR seq < :before))
    SELECT e.seq, e.recorded_at, e.client_system, e.relaying_platform, e.end_user, e.service, e.purpose,
           e.legal_basis, e.fields_disclosed, e.result, e.error_code, s.name AS system_name,
           o.name AS organisation_name
    FROM (SELECT * FROM hits ORDER BY seq DESC LIMIT :limit) AS e
    LEFT JOIN information_system AS s ON s.identifier = e.client_system
    LEFT JOIN organisation AS o ON o.org_id = s.org_id
    ORDER BY e.seq DESC"""


def access_history(session: Session, personal_id: str, limit: int, before: int | None) -> list[Any]:
    """Exchanges that concerned ``personal_id``, newest first, with the agency's names when registered."""
    return list(session.execute(text(ACCESS_HISTORY_SQL), {"pid": personal_id, "before": before, "limit": limit}))
