"""Every SQL statement of the exchange (raw psycopg, async: the hot path is one query per concern)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dancu.db.pipeline import PipelinedConnection
from dancu.db.prepared import PreparedStatement, text_array
from dancu.policy.domain import Environment, Policy
from dancu.registry.domain import PartialDate
from dancu.registry.models import Resident
from dancu.registry.repository import SECTOR_COLUMNS, state_of

# The policy in force of the environment the call is made in: a credential's kind (test | production) is the
# environment of the calls made with it (policy_version.environment uses the same words).
_POLICY_JOIN = ("LEFT JOIN policy_version p ON p.system_id = s.system_id AND p.valid_to IS NULL "
                "AND p.valid_from <= now() AND p.environment = {environment}")
AUTH_SQL = (
    "SELECT s.identifier, s.org_id, s.status, s.suspended_until, s.status_reason, c.system_id, c.kind, "
    "c.revoked_at, s.kind, p.policy_version_id, s.via_platform FROM system_credential c "
    f"JOIN information_system s ON s.system_id = c.system_id {_POLICY_JOIN.format(environment='c.kind')} "
    "WHERE c.credential_id = %s"
)
SYSTEM_SQL = (
    "SELECT s.system_id, s.identifier, s.status, s.suspended_until, s.status_reason, s.via_platform, "
    f"p.policy_version_id FROM information_system s {_POLICY_JOIN.format(environment='%s')} "
    "WHERE s.identifier = %s"
)
POLICY_SQL = ("SELECT services, fields, purposes, legal_bases, daily_quota, rate_per_second, must_name_end_user, "
              "version, sources, environment FROM policy_version WHERE policy_version_id = %s")
VERIFY_COLUMNS = ("personal_id, full_name, dob_year, dob_month, dob_day, sex, permanent_province, "
                  "permanent_commune, permanent_address, death_kind")
# Which residents a call's reads may see: a test call only the sandbox's, a production call every other one.
_IN_SANDBOX = "EXISTS (SELECT 1 FROM sandbox_resident sb WHERE sb.resident_id = resident.resident_id)"
_SEEN_BY = {Environment.TEST.value: _IN_SANDBOX, Environment.PRODUCTION.value: f"NOT {_IN_SANDBOX}"}


def seen_by(environment: str) -> str:
    """The SQL condition on ``resident`` of the residents a call of ``environment`` may read."""
    return _SEEN_BY[environment]


@dataclass(frozen=True)
class AuthRow:
    identifier: str
    org_id: int
    status: str
    suspended_until: datetime | None
    status_reason: str | None
    system_id: int
    credential_kind: str
    revoked_at: datetime | None
    system_kind: str
    policy_version_id: int | None  # of the credential kind's environment
    via_platform: str | None  # step 4: the platform it must call through (NDXP/LGSP), else None


@dataclass(frozen=True)
class SystemRow:
    system_id: int
    identifier: str
    status: str
    suspended_until: datetime | None
    status_reason: str | None
    via_platform: str | None
    policy_version_id: int | None


async def auth_row(conn: psycopg.AsyncConnection, credential_id: int) -> AuthRow | None:
    row = await (await conn.execute(AUTH_SQL, (credential_id,))).fetchone()
    return AuthRow(*row) if row else None


async def system_row(conn: psycopg.AsyncConnection, identifier: str,
                     environment: str = Environment.PRODUCTION.value) -> SystemRow | None:
    """A system's standing, with its policy version in force in ``environment``."""
    row = await (await conn.execute(SYSTEM_SQL, (environment, identifier))).fetchone()
    return SystemRow(*row) if row else None


async def policy(conn: psycopg.AsyncConnection, policy_version_id: int) -> Policy | None:
    row = await (await conn.execute(POLICY_SQL, (policy_version_id,))).fetchone()
    if row is None:
        return None
    services, fields, purposes, bases, quota, rate, end_user, version, sources, environment = row
    return Policy(frozenset(services), frozenset(fields), frozenset(purposes), frozenset(bases), int(quota),
                  int(rate), bool(end_user), int(version), frozenset(sources), Environment(environment))


@lru_cache(maxsize=65_536)
def _dob_text(year: int, month: int | None, day: int | None) -> str:
    return str(PartialDate(year, month, day))


def _verify_record(row: Sequence[Any]) -> dict[str, Any]:
    pid, name, year, month, day, sex, province, commune, address, death = row
    dob = _dob_text(year, month, day) if year is not None else None
    return {"personal_id": pid, "full_name": name, "date_of_birth": dob, "sex": sex,
            "permanent_province": province, "permanent_commune": commune, "permanent_address": address,
            "death_kind": death}


async def verify_records(conn: psycopg.AsyncConnection, personal_ids: list[str],
                         environment: str = Environment.PRODUCTION.value) -> dict[str, dict[str, Any]]:
    """The compared columns of the current holders of ``personal_ids`` (one indexed query) that a call of
    ``environment`` may see (test: sandbox residents only; production: every resident but those)."""
    seen = seen_by(environment)
    if len(personal_ids) == 1:
        cur = await conn.execute(f"SELECT {VERIFY_COLUMNS} FROM resident WHERE personal_id = %s AND {seen}",
                                 (personal_ids[0],))
    else:
        cur = await conn.execute(f"SELECT {VERIFY_COLUMNS} FROM resident WHERE personal_id = ANY(%s) AND {seen}",
                                 (personal_ids,))
    return {row[0]: _verify_record(row) for row in await cur.fetchall()}


async def sandbox_ids(conn: psycopg.AsyncConnection, personal_ids: list[str]) -> set[str]:
    """Those of ``personal_ids`` held by a sandbox resident."""
    if not personal_ids:
        return set()
    cur = await conn.execute(f"SELECT personal_id FROM resident WHERE personal_id = ANY(%s) AND {_IN_SANDBOX}",
                             (personal_ids,))
    return {row[0] for row in await cur.fetchall()}


SANDBOX_LIST_SQL = (
    "SELECT r.resident_id, r.personal_id, r.full_name, r.dob_year, r.dob_month, r.dob_day, r.sex, "
    "r.permanent_province, r.permanent_commune, r.permanent_address FROM sandbox_resident sb "
    "JOIN resident r ON r.resident_id = sb.resident_id WHERE sb.resident_id > %s ORDER BY sb.resident_id LIMIT %s"
)


async def sandbox_residents(conn: psycopg.AsyncConnection, after: int, limit: int) -> list[dict[str, Any]]:
    """A page of the sandbox's synthetic residents, in ``resident_id`` order after ``after`` (a cursor)."""
    cur = await conn.execute(SANDBOX_LIST_SQL, (after, limit))
    return [{"cursor": rid, "personal_id": pid, "full_name": name,
             "date_of_birth": _dob_text(year, month, day) if year is not None else None, "sex": sex,
             "permanent_province": province, "permanent_commune": commune, "permanent_address": address}
            for rid, pid, name, year, month, day, sex, province, commune, address in await cur.fetchall()]


async def job_lines_outside_sandbox(conn: psycopg.AsyncConnection, job_id: int, limit: int) -> list[int]:
    """Line numbers of a staged verify job whose personal ID is not a sandbox resident's (at most ``limit``)."""
    cur = await conn.execute(
        "SELECT i.line_no FROM exchange_job_item i WHERE i.job_id = %s AND NOT EXISTS (SELECT 1 FROM resident "
        f"WHERE resident.personal_id = i.personal_id AND {_IN_SANDBOX}) ORDER BY i.line_no LIMIT %s", (job_id, limit))
    return [int(row[0]) for row in await cur.fetchall()]


# The lean path serves production calls only (it hands test ones to the route): the resident is read as a
# production call sees it, the sandbox left out.
AUTH_AND_RECORD_SQL = (
    "SELECT q.i, s.identifier, s.org_id, s.status, s.suspended_until, s.status_reason, c.system_id, c.kind, "
    "c.revoked_at, s.kind, p.policy_version_id, s.via_platform, "
    + ", ".join(f"r.{name.strip()}" for name in VERIFY_COLUMNS.split(","))
    + " FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS q(credential_id, personal_id, i) "
    "JOIN system_credential c ON c.credential_id = q.credential_id "
    f"JOIN information_system s ON s.system_id = c.system_id {_POLICY_JOIN.format(environment='c.kind')} "
    "LEFT JOIN resident r ON r.personal_id = q.personal_id "
    "AND NOT EXISTS (SELECT 1 FROM sandbox_resident sb WHERE sb.resident_id = r.resident_id)"
)
Standing = tuple[AuthRow, dict[str, Any] | None]
# run on the lean path's own read connections without psycopg's execute machinery (see dancu.db.prepared)
_AUTH_AND_RECORDS = PreparedStatement("dancu_auth_and_records", AUTH_AND_RECORD_SQL)



async def auth_and_records(conn: psycopg.AsyncConnection | PipelinedConnection, asks: Sequence[tuple[int, str]]
                           ) -> list[Standing | None]:
    """For each ``(credential_id, personal_id)``: the caller's current standing (as :func:`auth_row`) and
    the compared columns of the personal ID's holder (``None`` if nobody holds it) — or ``None`` when the
    credential does not exist.  One statement, so one snapshot, for the whole batch."""
    rows = await _AUTH_AND_RECORDS.rows(conn, (
        ("{" + ",".join(str(int(a[0])) for a in asks) + "}").encode(), text_array([a[1] for a in asks]).encode()))
    found: list[Standing | None] = [None] * len(asks)
    callers: dict[tuple[Any, ...], AuthRow] = {}  # a batch is mostly a few callers: one AuthRow each
    for row in rows:
        key = row[1:12]
        caller = callers.get(key) or callers.setdefault(key, AuthRow(*key))
        found[row[0] - 1] = caller, (_verify_record(row[12:]) if row[12] is not None else None)
    return found


@dataclass(frozen=True)
class FullRecord:
    state: dict[str, Any]
    provenance: dict[str, Any]
    updated_at: datetime


_RESIDENT_COLUMNS = frozenset(c.key for c in Resident.__table__.columns) | {"sector_ids"}


async def full_record(conn: psycopg.AsyncConnection, personal_id: str,
                      environment: str = Environment.PRODUCTION.value) -> FullRecord | None:
    """The whole record of the holder of ``personal_id``, if a call of ``environment`` may see it."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT *, {SECTOR_COLUMNS} FROM resident WHERE personal_id = %s "
                          f"AND {seen_by(environment)}", (personal_id,))
        row = await cur.fetchone()
    if row is None:
        return None
    resident = Resident(**{k: v for k, v in row.items() if k in _RESIDENT_COLUMNS})
    provenance = {**(row.get("provenance") or {}), **(row.get("sector_provenance") or {})}
    return FullRecord(state_of(resident), provenance, row["updated_at"])


# -- quota --------------------------------------------------------------------------------------------
async def quota_used(conn: psycopg.AsyncConnection, system_id: int, environment: str, day: date) -> int:
    row = await (await conn.execute(
        "SELECT used FROM quota_usage WHERE system_id = %s AND environment = %s AND day = %s",
        (system_id, environment, day))).fetchone()
    return int(row[0]) if row else 0


async def quota_add(conn: psycopg.AsyncConnection, system_id: int, environment: str, day: date, amount: int) -> int:
    """Add ``amount`` (already admitted in memory) to the stored counter; the stored total after."""
    row = await (await conn.execute(
        "INSERT INTO quota_usage (system_id, environment, day, used) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (system_id, environment, day) DO UPDATE SET used = quota_usage.used + EXCLUDED.used "
        "RETURNING used", (system_id, environment, day, amount))).fetchone()
    assert row is not None
    return int(row[0])


# -- verify jobs --------------------------------------------------------------------------------------
async def create_job(conn: psycopg.AsyncConnection, key: str, params: dict[str, Any]) -> int:
    row = await (await conn.execute(
        "INSERT INTO job (job_key, kind, params, state, total, done, checkpoint, report) "
        "VALUES (%s, 'exchange_verify', %s, 'receiving', 0, 0, '{}', '{}') RETURNING job_id",
        (key, psycopg.types.json.Jsonb(params)))).fetchone()
    assert row is not None
    return int(row[0])


async def stage_items(conn: psycopg.AsyncConnection, rows: list[tuple[int, int, str, str]]) -> None:
    async with conn.cursor() as cur, cur.copy(
            "COPY exchange_job_item (job_id, line_no, personal_id, input) FROM STDIN") as copy:
        for row in rows:
            await copy.write_row(row)


async def set_job(conn: psycopg.AsyncConnection, job_id: int, **values: Any) -> None:
    sets = ", ".join(f"{name} = %s" for name in values)
    params = [psycopg.types.json.Jsonb(v) if isinstance(v, dict) else v for v in values.values()]
    await conn.execute(f"UPDATE job SET {sets}, updated_at = now() WHERE job_id = %s", (*params, job_id))


async def job(conn: psycopg.AsyncConnection, job_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT job_id, kind, params, state, total, done, checkpoint, report, error, started_at, "
                          "updated_at, finished_at FROM job WHERE job_id = %s AND kind = 'exchange_verify'",
                          (job_id,))
        return await cur.fetchone()


async def claim_stale_job(conn: psycopg.AsyncConnection, stale_seconds: int) -> int | None:
    """A running job nobody has advanced for ``stale_seconds`` (its runner died), claimed atomically."""
    row = await (await conn.execute(
        "UPDATE job SET updated_at = now() WHERE job_id = (SELECT job_id FROM job WHERE kind = 'exchange_verify' "
        "AND state = 'running' AND updated_at < now() - make_interval(secs => %s) ORDER BY job_id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED) RETURNING job_id", (stale_seconds,))).fetchone()
    return int(row[0]) if row else None


async def pending_items(conn: psycopg.AsyncConnection, job_id: int, after: int, limit: int
                        ) -> list[tuple[int, str, dict[str, Any]]]:
    cur = await conn.execute(
        "SELECT line_no, personal_id, input FROM exchange_job_item WHERE job_id = %s AND line_no > %s "
        "ORDER BY line_no LIMIT %s", (job_id, after, limit))
    return [(int(a), str(b), dict(c)) for a, b, c in await cur.fetchall()]


async def save_results(conn: psycopg.AsyncConnection, job_id: int, results: list[tuple[int, dict[str, Any]]],
                       done: int, checkpoint: dict[str, Any]) -> None:
    async with conn.transaction():
        async with conn.cursor() as cur:
            await cur.executemany(
                "UPDATE exchange_job_item SET result = %s WHERE job_id = %s AND line_no = %s",
                [(psycopg.types.json.Jsonb(result), job_id, line) for line, result in results])
        await set_job(conn, job_id, done=done, checkpoint=checkpoint)


async def results(conn: psycopg.AsyncConnection, job_id: int, after: int) -> AsyncIterator[tuple[int, Any]]:
    async with conn.transaction(), conn.cursor(name=f"job_results_{job_id}") as cur:
        await cur.execute("SELECT line_no, result FROM exchange_job_item WHERE job_id = %s AND line_no > %s "
                          "AND result IS NOT NULL ORDER BY line_no", (job_id, after))
        async for line, result in cur:
            yield int(line), result
