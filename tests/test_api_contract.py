"""Property-based contract test of the whole HTTP API (schemathesis over the app's own OpenAPI document).

Every operation, fed generated valid and invalid input over real HTTP, must never answer 5xx, and must
answer with the status codes, content types and bodies its OpenAPI document declares.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from dancu.app import create_app
from dancu.db import Database
from tests.operators.accounts import auth

# The document does not depend on the database; an engine that never connects is enough to build it.
SCHEMA = schemathesis.openapi.from_dict(create_app(Database("postgresql+psycopg://unused@/unused")).openapi())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
OPERATOR = auth("contract-all")  # every role, so guarded operations run past the guard (401/403: tests/operators)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_honours_its_contract(label: str, live_server: str) -> None:
    @given(case=OPERATIONS[label].as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=live_server, headers=OPERATOR, checks=CHECKS)

    run()
