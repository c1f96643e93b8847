"""Property-based contract test of the whole HTTP API (schemathesis over the app's own OpenAPI document).

Every operation, fed generated valid and invalid input over real HTTP, must never answer 5xx, must answer
with the status codes, content types and bodies its OpenAPI document declares, and must answer every error as
problem+json with a code and both titles.  Operator operations run with an operator token holding every role;
the exchange's (``/exchange/…`` and the X-Road path style ``/r1/…``) with the token of a connected system
onboarded with a generous policy — every service, field and source its letter asks, a huge quota and rate — so
that they run past authentication into purpose, policy, validation and the answer itself.  Half the exchange
cases are aimed: the policy's purpose (and source) put in, so that calls get past the policy too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from dancu.app import create_app
from dancu.db import Database
from tests.exchange.helpers import FIELDS, PURPOSE, SERVICES, System, grant, onboard
from tests.operators.accounts import auth

# The document does not depend on the database; an engine that never connects is enough to build it.
SCHEMA = schemathesis.openapi.from_dict(create_app(Database("postgresql+psycopg://unused@/unused")).openapi())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
EXCHANGE_PREFIXES = ("/exchange/", "/r1/")
PUSH_PURPOSE = "dong_bo_the_bhyt"
WELL_FORMED_ID = "001099000002"  # a well-formed personal ID number nobody holds: a 200 with resident_not_found


@schemathesis.check
def errors_are_problems(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                        case: schemathesis.Case) -> bool | None:
    """Every 4xx/5xx is problem+json with a stable code and a Vietnamese and an English title."""
    if response.status_code < 400 or case.path == "/oauth/token":  # RFC 6749 errors there, as documented
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/problem+json"), (response.status_code, content_type)
    body = response.json()
    assert isinstance(body, dict) and body.get("code") and body.get("title") and body.get("title_en"), body
    return None


CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    errors_are_problems,
]
OPERATOR = auth("contract-all")  # every role, so guarded operations run past the guard (401/403: tests/operators)


@pytest.fixture(scope="session")
def contract_http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def exchange_system(contract_http: httpx.Client) -> System:
    """A connected system with every service, field and source its letter asks, and room for every case."""
    return onboard(contract_http, grant(services=SERVICES, fields=FIELDS, purposes=[PURPOSE, PUSH_PURPOSE],
                                        sources=["bhyt"], daily_quota=10**9, rate_per_second=100_000))


def _aimed(case: schemathesis.Case, aim: bool) -> schemathesis.Case:
    """The case with what the policy grants put in (purpose, source, a well-formed personal ID), if ``aim``."""
    if not aim:
        return case
    if isinstance(case.body, dict):
        body: dict[str, Any] = case.body
        is_push = "records" in body or "source" in body
        body["purpose"] = PUSH_PURPOSE if is_push else PURPOSE
        if is_push:
            body["source"] = "bhyt"
        if "personal_id" in body:
            body["personal_id"] = WELL_FORMED_ID
    if case.path.endswith("/verify/jobs"):
        case.query = {**(case.query or {}), "purpose": PURPOSE}
    return case


def _headers(label: str, request: pytest.FixtureRequest) -> dict[str, str]:
    if not OPERATIONS[label].path.startswith(EXCHANGE_PREFIXES):
        return OPERATOR
    system: System = request.getfixturevalue("exchange_system")
    http: httpx.Client = request.getfixturevalue("contract_http")
    return {"Authorization": f"Bearer {system.token(http)}"}  # fresh for each operation: tokens live 5 minutes


# The suite's run is reproducible (the same cases every time, so a red CI is a regression, not a lucky draw);
# DANCU_FUZZ_EXPLORE=1 draws new cases each run, DANCU_FUZZ_EXAMPLES sets how many per operation — run that
# way now and then to find what the fixed cases miss (docs/operations.md, "Testing").
EXPLORE = os.environ.get("DANCU_FUZZ_EXPLORE") == "1"
EXAMPLES = int(os.environ.get("DANCU_FUZZ_EXAMPLES", "30"))


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_honours_its_contract(label: str, live_server: str, request: pytest.FixtureRequest) -> None:
    headers = _headers(label, request)
    statuses: set[int] = set()

    @given(case=OPERATIONS[label].as_strategy(), aim=st.booleans())
    @settings(max_examples=EXAMPLES, derandomize=not EXPLORE, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def run(case: schemathesis.Case, aim: bool) -> None:
        response = _aimed(case, aim).call_and_validate(base_url=live_server, headers=headers, checks=CHECKS)
        statuses.add(response.status_code)

    run()
    if OPERATIONS[label].path.startswith(EXCHANGE_PREFIXES):
        assert statuses - {401}, f"every case stopped at authentication: {sorted(statuses)}"


def test_the_exchange_is_fuzzed_with_a_valid_token() -> None:
    """Every exchange operation is in the document, the X-Road path style included, so the test above covers it."""
    paths = {operation.path for operation in OPERATIONS.values()}
    for service in ("verify", "retrieve", "verifyBatch", "enrichmentPush"):
        assert f"/r1/{{instance}}/{{member_class}}/{{member_code}}/{{subsystem}}/{service}" in paths
    for path in ("/exchange/v1/verify", "/exchange/v1/verify/batch", "/exchange/v1/verify/jobs",
                 "/exchange/v1/retrieve", "/exchange/v1/enrichment"):
        assert path in paths
