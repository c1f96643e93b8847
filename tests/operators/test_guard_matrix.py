"""Every operator operation in the OpenAPI document × every way in: no token, a bad, unknown, expired or revoked
token, a disabled operator, each wrong role — refused; the right role — let through (whatever comes next)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dancu.db import Database
from dancu.operators import domain, service
from dancu.operators.domain import Role
from dancu.operators.openapi import required_roles
from tests.operators.accounts import TOKENS

PROBLEM = "application/problem+json"
DOCS = Path(__file__).parents[2] / "docs" / "operations.md"
DOC_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([a-z_, ]+) \|$", re.MULTILINE)
PATH_VALUES = {"request_id": "1", "number": "2", "identifier": "VN/GOV/000/NONE", "kid": "k1",
               "personal_id": "001099999999", "job_id": "1", "item_id": "1-1", "system": "VN/GOV/000/NONE",
               "username": "nobody-at-all", "token_id": "1", "seq": "1", "organisation": "VN/GOV/000",
               "focal_point_id": "1"}


def _operations(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            roles = required_roles(operation)
            if roles is not None:
                url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
                found.append((method.upper(), url, roles))
    return found


@pytest.fixture(scope="module")
def operations(live_app: FastAPI) -> list[tuple[str, str, list[str]]]:
    return _operations(live_app)


@pytest.fixture(scope="module")
def spoiled(database: Database) -> dict[str, str]:
    """Tokens of an operator holding every role, each spoiled one way (committed: the server must see them)."""
    every = frozenset(Role)
    tokens: dict[str, str] = {}
    with database.sessions.begin() as session:
        for kind in ("expired", "revoked", "disabled"):
            username = f"spoiled-{kind}-{uuid.uuid4().hex[:6]}"
            ctx = service.Context(session, "tests", service.utcnow())
            service.add(ctx, username, "A", "B", every)
            past = service.Context(session, "tests", service.utcnow() - timedelta(days=3))
            row, tokens[kind] = service.issue_token(past if kind == "expired" else ctx, username, days=1)
            if kind == "revoked":
                service.revoke_token(ctx, username, row.token_id)
            if kind == "disabled":
                service.disable(ctx, username)
    tokens["unknown"] = domain.new_token()
    tokens["malformed"] = tokens["unknown"][:-1] + ("0" if tokens["unknown"][-1] != "0" else "1")
    tokens["not-ours"] = "eyJhbGciOiJFZERTQSJ9.e30.c2ln"  # a connected system's kind of token
    return tokens


def call(http: httpx.Client, method: str, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
    return http.request(method, url, headers=headers or {}, json=body)


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, (response.request.url, response.text)
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "operator_unauthenticated"


def test_the_guarded_set_is_what_the_docs_say(live_app: FastAPI) -> None:
    """docs/operations.md's route → role table is the OpenAPI document's, row for row."""
    documented = {(m, p, r) for m, p, r in DOC_ROW.findall(DOCS.read_text(encoding="utf-8"))}
    actual = set()
    for path, operations in live_app.openapi()["paths"].items():
        for method, operation in operations.items():
            roles = required_roles(operation)
            if roles is not None:
                actual.add((method.upper(), path, ", ".join(roles) or "any operator"))
    assert actual == documented
    unguarded = {("GET", "/agencies/me"), ("GET", "/ledger/tree-heads/latest"), ("POST", "/exchange/v1/verify")}
    assert not unguarded & {(m, p) for m, p, _ in actual}


def test_every_operation_refuses_every_bad_way_in(http: httpx.Client, spoiled: dict[str, str],
                                                  operations: list[tuple[str, str, list[str]]]) -> None:
    for method, url, _ in operations:
        assert_unauthenticated(call(http, method, url))
        assert_unauthenticated(call(http, method, url, {"Authorization": f"Basic {TOKENS['contract-all']}"}))
        for token in spoiled.values():
            assert_unauthenticated(call(http, method, url, {"Authorization": f"Bearer {token}"}))


def test_every_operation_refuses_the_wrong_roles_and_admits_the_right_ones(
        http: httpx.Client, operations: list[tuple[str, str, list[str]]]) -> None:
    for method, url, roles in operations:
        for role in [*Role, None]:
            account = f"role-{role.value}" if role else "role-none"
            response = call(http, method, url, {"Authorization": f"Bearer {TOKENS[account]}"})
            if not roles or (role is not None and role.value in roles):
                assert response.status_code not in (401, 403), (method, url, account, response.text)
            else:
                assert response.status_code == 403, (method, url, account, response.text)
                problem = response.json()
                assert problem["code"] == "operator_role_required" and problem["required_roles"] == roles
                assert roles[0] in problem["detail"] and roles[0] in problem["detail_en"]
