"""Builders for exchange tests: onboard a system with a policy, get its token, create residents, read the log."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from dancu.db import Database
from tests.agencies.factories import ACTOR, ClientKey, letter, post_step, step_body, token_form, unique
from tests.registry.factories import resident_payload

PURPOSE = "kyc_account_opening"
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
    def __init__(self, identifier: str, key: ClientKey, request_id: int) -> None:
        self.identifier, self.key, self.request_id = identifier, key, request_id

    def token(self, http: httpx.Client) -> str:
        audience = f"{str(http.base_url).rstrip('/')}/oauth/token"
        response = http.post("/oauth/token", data=token_form(self.key, self.identifier, audience))
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def onboard(http: httpx.Client, policy: dict[str, Any] | None = None, *, org_type: str = "credit_institution",
            kind: str = "business", design: dict[str, Any] | None = None, security: dict[str, Any] | None = None,
            until: int = 10) -> System:
    """Walk the 10 steps; step 9 activates ``policy``.  Returns the system and its production key."""
    policy = policy or grant()
    body = letter(org_type=org_type, kind=kind, services=SERVICES, fields=FIELDS)
    body["sources"] = list(policy.get("sources", []))  # what the letter asks, the policy may grant
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
        if number == 9:
            step["data"]["policy"] = policy
        response = post_step(http, request_id, number, step)
        assert response.status_code == 200, response.text
    return System(identifier, key, request_id)


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


__all__ = ["ACTOR", "PURPOSE", "System", "bearer", "entries", "grant", "onboard", "resident", "unique"]
