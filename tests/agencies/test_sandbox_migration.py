"""Migration 0016 on a database holding connected systems: systems with test credentials get a test policy
from their letter (a live one keeps its production purposes); production versions and quota counters stay
production ones; the downgrade removes what the revision added."""

from __future__ import annotations

import json

import psycopg

from dancu.db import migrate as migrations
from dancu.db.engine import libpq_url
from dancu.db.scratch import scratch_database

LETTER = {"services": ["verify", "retrieve"], "fields": ["full_name", "sex"], "sources": []}


def _system(conn: psycopg.Connection, code: str, status: str, steps: list[int], production: bool) -> int:
    org = conn.execute("INSERT INTO organisation (instance, member_class, member_code, name, org_type) "
                       "VALUES ('VN', 'COM', %s, 'Bank', 'credit_institution') RETURNING org_id", (code,)).fetchone()
    assert org is not None
    system = conn.execute(
        "INSERT INTO information_system (org_id, identifier, subsystem_code, name, kind, status, readiness) "
        "VALUES (%s, %s, 'EKYC', 'eKYC', 'business', %s, '{}') RETURNING system_id",
        (org[0], f"VN/COM/{code}/EKYC", status)).fetchone()
    assert system is not None
    request = conn.execute("INSERT INTO onboarding_request (system_id, state, next_step) VALUES (%s, 'x', NULL) "
                           "RETURNING request_id", (system[0],)).fetchone()
    assert request is not None
    for number in steps:
        conn.execute("INSERT INTO onboarding_step (request_id, step_no, actor, recorded_at, documents, data) "
                     "VALUES (%s, %s, 'o', now(), '[]', %s)",
                     (request[0], number, json.dumps(LETTER if number == 1 else {})))
    if production:
        conn.execute("INSERT INTO policy_version (system_id, version, services, fields, purposes, legal_bases, "
                     "daily_quota, rate_per_second, must_name_end_user, valid_from, created_by) VALUES "
                     "(%s, 1, '{verify}', '{full_name}', '{kyc}', '{nd13}', 500, 50, false, now(), 'o')",
                     (system[0],))
        conn.execute("INSERT INTO quota_usage (system_id, day, used) VALUES (%s, current_date, 7)", (system[0],))
    return int(system[0])


def test_systems_with_test_keys_get_a_test_policy(database_url: str) -> None:
    with scratch_database(database_url, prefix="dancu_m16") as url:
        migrations.upgrade(url, "0015")
        with psycopg.connect(libpq_url(url)) as conn:
            live = _system(conn, "LIVE", "active", list(range(1, 11)), production=True)
            testing = _system(conn, "SEVEN", "onboarding", list(range(1, 8)), production=False)
            early = _system(conn, "FOUR", "onboarding", list(range(1, 5)), production=False)
            ended = _system(conn, "GONE", "terminated", list(range(1, 11)), production=False)
        migrations.upgrade(url, "0016")
        with psycopg.connect(libpq_url(url)) as conn:
            rows = conn.execute("SELECT system_id, environment, version, services, fields, purposes, legal_bases, "
                                "daily_quota, rate_per_second FROM policy_version ORDER BY system_id, environment"
                                ).fetchall()
            used = conn.execute("SELECT system_id, environment, used FROM quota_usage").fetchall()
        assert [r[:3] for r in rows] == [(live, "production", 1), (live, "test", 1), (testing, "test", 1)]
        assert rows[1][3:] == (["verify", "retrieve"], ["full_name", "sex"], ["kyc"], ["nd13"], 1000, 10)
        assert rows[2][5:7] == ([], [])  # no purpose codes to take: the letter named none, no production policy
        assert early not in {r[0] for r in rows} and ended not in {r[0] for r in rows}
        assert used == [(live, "production", 7)]
        migrations.downgrade(url, "0015")
        with psycopg.connect(libpq_url(url)) as conn:
            left = conn.execute("SELECT system_id, version FROM policy_version").fetchall()
            tables = conn.execute("SELECT to_regclass('sandbox_resident')").fetchone()
        assert left == [(live, 1)] and tables == (None,)
