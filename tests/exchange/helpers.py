"""Builders for exchange tests: onboard a system with a policy, get its token, create residents, read the log."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from dancu.db import Database
from tests.agencies.factories import (
    ACTOR,
    PURPOSE,
    ClientKey,
    access_token,
    letter,
    post_step,
    sandbox_calls,
    sandbox_people,
    step_body,
    unique,
)
from tests.registry.factories import resident_payload

FIELDS = ["full_name", "date_of_birth", "sex", "permanent_province", "permanent_commune", "permanent_address",
          "religion_code", "phone"]
SERVICES = ["verify", "retrieve", "batch_verify", "enrichment_push"]  # what onboard()'s request letter asks


def grant(**overrides: Any) -> dict[str, Any]:
    policy: dict[str, Any] = {"services": ["verify", "retrieve", "batch_verify"],
                              "fields": ["full_name", "date_of_birth", "sex", "permanent_province",
                                         "permanent_commune", "permanent_address"],
                              "purposes": [PURPOSE], "daily_quota": 100_000, "rate_per_second": 10_000}
    policy.update(overrides)
    return policy


class System:
    def __init__(self, identifier: str, key: ClientKey, request_id: int, test_key: ClientKey | None = None) -> None:
        self.identifier, self.key, self.request_id = identifier, key, request_id
        self.test_key = test_key or ClientKey()

    def token(self, http: httpx.Client) -> str:
        """A production access token (its production key)."""
        return access_token(http, self.identifier, self.key)

    def test_token(self, http: httpx.Client) -> str:
        """A test access token (its test key, from step 7)."""
        return access_token(http, self.identifier, self.test_key)


def onboard(http: httpx.Client, policy: dict[str, Any] | None = None, *, org_type: str = "credit_institution",
            kind: str = "business", design: dict[str, Any] | None = None, security: dict[str, Any] | None = None,
            until: int = 10, via: System | None = None, test_policy: dict[str, Any] | None = None) -> System:
    """Walk the 10 steps; step 7 issues a test key, step 8 follows real test calls on sandbox residents (relayed
    by ``via``, its platform, when the design says the system connects through one), step 9 activates
    ``policy``; ``test_policy``: step 7's choices for the test policy (quota, rate...).  Returns the system with
    its test and production keys."""
    policy = policy or grant()
    asked = sorted({*FIELDS, *policy.get("fields", ())})  # the letter asks at least what the policy grants
    body = letter(org_type=org_type, kind=kind, services=SERVICES, fields=asked,
                  purposes=sorted({PURPOSE, *policy.get("purposes", ())}))
    body["sources"] = list(policy.get("sources", []))  # what the letter asks, the policy may grant
    body["legal_bases"] = list(policy.get("legal_bases", []))
    if via is not None:
        design = design or {"connection_model": "lgsp", "via_platform": via.identifier}
    started = http.post("/agencies/onboarding", json=body, headers=ACTOR)
    assert started.status_code == 201, started.text
    request_id, identifier = started.json()["request_id"], started.json()["system"]
    test_key, key = ClientKey(), ClientKey()
    for number in range(2, until + 1):
        step = step_body(number, test_key, key)
        if number == 4 and design:
            step = {"data": design}
        if number == 5 and security:
            step = security
        if number == 7 and test_policy:
            step["data"]["test_policy"] = test_policy
        if number == 8:
            assert via is not None or not (design or {}).get("via_platform"), "a relayed system tests through via"
            relay = (via.identifier, via.test_key) if via is not None else None
            sandbox_calls(http, identifier, test_key, SERVICES, FIELDS, sources=body["sources"],
                          legal_basis=(body["legal_bases"] or [None])[0], relay=relay)
        if number == 9:
            step["data"]["policy"] = policy
        response = post_step(http, request_id, number, step)
        assert response.status_code == 200, response.text
    return System(identifier, key, request_id, test_key)


def resident(http: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = http.post("/registry/residents", json=resident_payload(**overrides), headers=ACTOR)
    assert response.status_code == 201, response.text
    fields: dict[str, Any] = response.json()["resident"]["fields"]
    return fields


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def entries(database: Database, *, correlation: str | None = None, client: str | None = None
            ) -> list[dict[str, Any]]:
    """Ledger entries (committed) by correlation id prefix or client system, in log order."""
    where, params = [], []
    if correlation:
        where.append("correlation_id LIKE %s")
        params.append(correlation + "%")
    if client:
        where.append("client_system = %s")
        params.append(client)
    sql = "SELECT * FROM ledger_entry" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
    with psycopg.connect(_libpq(database)) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _libpq(database: Database) -> str:
    from dancu.db.engine import libpq_url

    return libpq_url(database.url)


__all__ = ["ACTOR", "PURPOSE", "System", "bearer", "entries", "grant", "onboard", "resident", "sandbox_people",
           "unique"]
