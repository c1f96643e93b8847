"""Operator accounts every HTTP test may use: tokens made at import, registered (hash only) once per session
by the ``operator_tokens`` fixture of tests/conftest.py.  ``auth(username)`` gives the request headers."""

from __future__ import annotations

from datetime import timedelta

from dancu.db import Database
from dancu.operators import domain, service
from dancu.operators.domain import Role
from dancu.operators.models import OperatorToken

EVERY_DUTY = ["connections", "inspector", "registrar", "registry_reader", "reviewer"]  # all but admin
ACCOUNTS: dict[str, list[str]] = {
    "officer-c06": EVERY_DUTY,  # tests.agencies.factories.ACTOR: walks onboarding, creates residents
    "officer-17": ["registrar"],
    "cb-02": ["registrar"],
    "officer-9": ["reviewer"],
    "cb1": ["reviewer"],
    "contract-all": [role.value for role in Role],  # the API contract test reaches every operation
    **{f"role-{role.value}": [role.value] for role in Role},
    "role-none": [],
}
TOKENS: dict[str, str] = {username: domain.new_token() for username in ACCOUNTS}


def auth(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[username]}"}


def register(database: Database) -> None:
    """Create the accounts and store their tokens' hashes (the only way a test token gets a known value)."""
    with database.sessions.begin() as session:
        ctx = service.Context(session, "tests", service.utcnow())
        for username, roles in ACCOUNTS.items():
            operator = service.add(ctx, username, f"Cán bộ {username}", "Bộ phận kiểm thử",
                                   frozenset(Role(r) for r in roles))
            token = TOKENS[username]
            session.add(OperatorToken(operator_id=operator.operator_id, token_hash=domain.token_hash(token),
                                      hint=domain.token_hint(token), created_at=ctx.now, created_by="tests",
                                      expires_at=ctx.now + timedelta(days=2)))
