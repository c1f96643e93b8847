"""The X-Road path style names the service provider: ``/r1/{instance}/{class}/{code}/{subsystem}/<service>``
answers only for this deployment's own identifier (``DANCU_XROAD_PROVIDER``); any other is a precise
``404 xroad_service_unknown``, judged before the body is read or the caller authenticated, and not logged."""

from __future__ import annotations

import uuid

import httpx
import pytest

from dancu.db import Database
from dancu.exchange.settings import get_exchange_settings
from tests.agencies.factories import assert_problem
from tests.exchange.helpers import PURPOSE, System, bearer, entries, grant, onboard, resident

PROVIDER = get_exchange_settings().xroad_provider
SERVICES = {"verify": "verify", "retrieve": "retrieve", "verifyBatch": "verify/batch",
            "enrichmentPush": "enrichment"}


def _others() -> list[str]:
    instance, member_class, code, subsystem = PROVIDER.split("/")
    return ["XX/NOPE/NOBODY/WHATEVER", f"{instance}/{member_class}/{code}/OTHER",
            f"{instance}/COM/{code}/{subsystem}", f"{instance}/{member_class}/{code}/{subsystem.lower()}"]


@pytest.fixture(scope="module")
def system(exchange_server: str) -> System:
    with httpx.Client(base_url=exchange_server, timeout=30) as client:
        return onboard(client, grant())


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("named", _others())
def test_another_providers_path_is_not_found(xhttp: httpx.Client, database: Database, system: System,
                                             named: str, service: str) -> None:
    correlation = f"r1-{uuid.uuid4()}"
    body = {"personal_id": "001099000002", "purpose": PURPOSE, "sex": "1"}
    response = xhttp.post(f"/r1/{named}/{service}", json=body,
                          headers=bearer(system.token(xhttp), **{"X-Road-Id": correlation}))
    problem = assert_problem(response, 404, "xroad_service_unknown")
    assert problem["provider"] == PROVIDER and PROVIDER in problem["detail"] and named in problem["detail_en"]
    assert problem["title"] == "Không có dịch vụ X-Road này"
    assert response.headers["X-Road-Error"] == "xroad_service_unknown"
    assert entries(database, correlation=correlation) == []  # like an unknown path: nobody, nothing, no entry
    anonymous = xhttp.post(f"/r1/{named}/{service}", content=b"{")  # before the body or the token is looked at
    assert_problem(anonymous, 404, "xroad_service_unknown")


def test_this_deployments_own_path_answers(xhttp: httpx.Client, system: System) -> None:
    person = resident(xhttp, sex="1")
    response = xhttp.post(f"/r1/{PROVIDER}/verify", headers=bearer(system.token(xhttp)),
                          json={"personal_id": person["personal_id"], "purpose": PURPOSE, "sex": "1"})
    assert response.status_code == 200 and response.json()["match"] is True, response.text


def test_the_provider_is_a_setting(xhttp: httpx.Client, system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_exchange_settings(), "xroad_provider", "VN/GOV/C06/DANCU")
    person = resident(xhttp, sex="1")
    body = {"personal_id": person["personal_id"], "purpose": PURPOSE, "sex": "1"}
    moved = xhttp.post("/r1/VN/GOV/C06/DANCU/verify", json=body, headers=bearer(system.token(xhttp)))
    assert moved.status_code == 200, moved.text
    assert_problem(xhttp.post(f"/r1/{PROVIDER}/verify", json=body, headers=bearer(system.token(xhttp))),
                   404, "xroad_service_unknown")
