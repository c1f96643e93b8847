"""Found by fuzzing the exchange with a valid token (tests/test_api_contract.py): text that PostgreSQL cannot
hold — a NUL in a purpose, a legal basis, a personal ID, a job line — made the exchange-log write (503) or the
job staging (500) fail, and a stray carriage return in a CSV job line raised out of the csv module (500).  Each
is a malformed request: 422, nothing logged."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from dancu.db import Database
from tests.agencies.factories import assert_problem
from tests.exchange.helpers import FIELDS, PURPOSE, SERVICES, System, bearer, entries, grant, onboard

PUSH_PURPOSE = "dong_bo_the_bhyt"
PID = "001099000002"
NUL = "\u0000"
BODIES: list[tuple[str, dict[str, Any]]] = [
    ("/exchange/v1/verify", {"purpose": f"kyc{NUL}", "personal_id": PID}),
    ("/exchange/v1/verify", {"purpose": PURPOSE, "legal_basis": NUL, "personal_id": PID}),
    ("/exchange/v1/verify", {"purpose": PURPOSE, "personal_id": f"00109900000{NUL}"}),
    ("/exchange/v1/verify", {"purpose": PURPOSE, "personal_id": PID, "sex": NUL}),
    ("/exchange/v1/verify/batch", {"purpose": PURPOSE, "items": [{"personal_id": f"a{NUL}b"}]}),
    ("/exchange/v1/verify/batch", {"purpose": None, "items": [{"personal_id": f"a{NUL}b"}]}),
    ("/exchange/v1/verify/batch", {"purpose": f"{NUL}", "items": [{"personal_id": PID}]}),
    ("/exchange/v1/retrieve", {"purpose": PURPOSE, "legal_basis": f"x{NUL}", "personal_id": PID,
                               "fields": ["sex"]}),
    ("/exchange/v1/enrichment", {"purpose": NUL, "source": "bhyt", "records": [{"ho_ten": "A"}]}),
]


@pytest.fixture(scope="module")
def system(exchange_server: str) -> System:
    with httpx.Client(base_url=exchange_server, timeout=30) as client:
        return onboard(client, grant(services=SERVICES, fields=FIELDS, purposes=[PURPOSE, PUSH_PURPOSE],
                                     sources=["bhyt"]))


@pytest.mark.parametrize(("path", "body"), BODIES, ids=[f"{p}-{i}" for i, (p, _) in enumerate(BODIES)])
def test_a_nul_in_a_body_is_a_validation_error(xhttp: httpx.Client, database: Database, system: System,
                                               path: str, body: dict[str, Any]) -> None:
    correlation = f"nul-{uuid.uuid4()}"
    response = xhttp.post(path, json=body, headers=bearer(system.token(xhttp), **{"X-Road-Id": correlation}))
    problem = assert_problem(response, 422, "validation_failed")
    assert any("NUL" in error["message_en"] for error in problem["errors"]), problem
    assert entries(database, correlation=correlation) == []


@pytest.mark.parametrize(("content_type", "body", "query"), [
    ("application/x-ndjson", b'{"personal_id": "00109900\\u0000"}\n', f"purpose={PURPOSE}"),
    ("application/x-ndjson", b'{"personal_id": "' + PID.encode() + b'"}\n', "purpose=%00"),
    ("application/x-ndjson", b'{"personal_id": "' + PID.encode() + b'"}\n', f"purpose={PURPOSE}&legal_basis=a%00"),
    ("text/csv", b"personal_id,sex\n" + PID.encode() + b",1\r" + PID.encode() + b",1\n", f"purpose={PURPOSE}"),
    ("text/csv", b"personal_id\r,sex\n" + PID.encode() + b",1\n", f"purpose={PURPOSE}"),
    ("text/csv", b"personal_id\n0010\x0099\n", f"purpose={PURPOSE}"),
])
def test_a_job_with_text_postgresql_cannot_hold_is_refused(xhttp: httpx.Client, database: Database,
                                                           system: System, content_type: str, body: bytes,
                                                           query: str) -> None:
    correlation = f"nul-job-{uuid.uuid4()}"
    response = xhttp.post(f"/exchange/v1/verify/jobs?{query}", content=body, headers=bearer(
        system.token(xhttp), **{"content-type": content_type, "X-Road-Id": correlation}))
    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("validation_failed", "job_input_invalid")
    assert entries(database, correlation=correlation) == []
