"""Request bodies are capped before they are parsed or their sender authenticated, by the declared length and
while they stream in: ``413 payload_too_large`` (problem+json, Vietnamese and English) with the operation's
limit — over real HTTP, on a bare socket where the body is declared but never sent, or chunked and never
ended.  A server that read the body whole would wait for the rest and never answer (the read's guard
timeout fails the test).  Per-route caps: larger for batches, jobs and pushes, smaller for citizen forms."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import orjson
import psycopg
import pytest
from fastapi import FastAPI

from dancu.app import BODY_LIMITS as APP_LIMITS
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.exchange import lean
from dancu.exchange.routes import BODY_LIMITS, MiB
from dancu.exchange.settings import get_exchange_settings
from dancu.kit.http import get_http_settings
from tests.agencies.factories import ACTOR, PROBLEM
from tests.exchange.helpers import PURPOSE, System, bearer, entries, grant, onboard, resident
from tests.kit.rawhttp import Answer, chunks_of, partial_body, unending_chunks

TWENTY_MB = 20 * 1000 * 1000
# The lean verify path reads up to this much before it hands a request to the route; send it, so that every
# path has what it needs to judge the request, and still only a sliver of the 20 MB declared.
PREFIX = b" " * (lean.MAX_BODY + 1)
PROVIDER = get_exchange_settings().xroad_provider
EXCHANGE_POSTS = {
    "/exchange/v1/verify": BODY_LIMITS["verify"],
    "/exchange/v1/retrieve": BODY_LIMITS["retrieve"],
    "/exchange/v1/verify/batch": BODY_LIMITS["verify/batch"],
    "/exchange/v1/enrichment": BODY_LIMITS["enrichment"],
    f"/r1/{PROVIDER}/verify": BODY_LIMITS["verify"],
    f"/r1/{PROVIDER}/retrieve": BODY_LIMITS["retrieve"],
    f"/r1/{PROVIDER}/verifyBatch": BODY_LIMITS["verifyBatch"],
    f"/r1/{PROVIDER}/enrichmentPush": BODY_LIMITS["enrichmentPush"],
}


def assert_too_large(answer: Answer, limit: int) -> dict[str, object]:
    assert answer.status == 413, answer.body[:500]
    assert answer.headers["content-type"] == PROBLEM
    problem: dict[str, object] = answer.json()
    assert problem["code"] == "payload_too_large" and problem["limit"] == limit
    assert problem["title"] == "Nội dung yêu cầu quá lớn" and problem["title_en"] == "Request body too large"
    assert f"{limit:,}" in str(problem["detail"]) and f"{limit:,}" in str(problem["detail_en"])
    return problem


@pytest.mark.parametrize("path", sorted(EXCHANGE_POSTS))
def test_a_declared_20_mb_body_without_a_token_is_refused_unread(exchange_server: str, path: str) -> None:
    answer = partial_body(exchange_server, path, declared=TWENTY_MB, sent=PREFIX,
                          headers={"Content-Type": "application/json"})
    assert_too_large(answer, EXCHANGE_POSTS[path])
    assert answer.headers["x-road-error"] == "payload_too_large"


def test_a_chunked_batch_stops_being_read_at_its_limit(exchange_server: str) -> None:
    """No Content-Length: the body is counted as it arrives; past 4 MiB the answer comes with the body unended."""
    limit = BODY_LIMITS["verify/batch"]
    answer = unending_chunks(exchange_server, "/exchange/v1/verify/batch", chunks=chunks_of(limit + 1),
                             headers={"Content-Type": "application/json"})
    assert_too_large(answer, limit)


def test_an_unauthenticated_job_upload_is_refused_before_its_body_is_read(exchange_server: str) -> None:
    """A verify job authenticates before it streams its body: 401 with 20 MB declared and a sliver sent."""
    answer = partial_body(exchange_server, "/exchange/v1/verify/jobs?purpose=x", declared=TWENTY_MB, sent=PREFIX,
                          headers={"Content-Type": "application/x-ndjson"})
    assert answer.status == 401 and answer.json()["code"] == "invalid_token"


@pytest.fixture(scope="module")
def system(xhttp_module: httpx.Client) -> System:
    return onboard(xhttp_module, grant())


@pytest.fixture(scope="module")
def xhttp_module(exchange_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=exchange_server, timeout=60) as client:
        yield client


def test_a_job_upload_over_its_limit_stops_being_read_and_leaves_no_job(
        exchange_app: FastAPI, exchange_server: str, xhttp_module: httpx.Client, system: System,
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    declared = partial_body(exchange_server, f"/exchange/v1/verify/jobs?purpose={PURPOSE}",
                            declared=BODY_LIMITS["verify/jobs"] + 1, sent=b"",
                            headers={"Content-Type": "application/x-ndjson", **bearer(system.token(xhttp_module))})
    assert_too_large(declared, BODY_LIMITS["verify/jobs"])

    route = next(r for r in _routes(exchange_app) if getattr(r, "path", "") == "/exchange/v1/verify/jobs")
    monkeypatch.setattr(route, "body_limit", 64 * 1024)  # a small cap, so that a few thousand lines pass it
    line = orjson.dumps({"personal_id": "001099000002", "sex": "1"}) + b"\n"
    lines = line * (64 * 1024 // len(line) + 1)
    answer = unending_chunks(exchange_server, f"/exchange/v1/verify/jobs?purpose={PURPOSE}", chunks=[lines],
                             headers={"Content-Type": "application/x-ndjson", "X-Road-Id": "job-over-its-limit",
                                      **bearer(system.token(xhttp_module))})
    assert_too_large(answer, 64 * 1024)
    assert answer.headers["x-road-error"] == "payload_too_large"
    with psycopg.connect(libpq_url(database.url)) as conn:
        jobs = conn.execute("SELECT count(*) FROM job WHERE kind = 'exchange_verify' AND params->>'correlation_id' "
                            "= 'job-over-its-limit'").fetchone()
    assert jobs == (0,)  # staging rolled back with the refusal
    assert entries(database, correlation="job-over-its-limit") == []  # no job, nothing verified, nothing logged


def _routes(app: FastAPI) -> Iterator[object]:
    def walk(routes: list[object]) -> Iterator[object]:
        for route in routes:
            included = getattr(route, "original_router", None)
            yield from walk(included.routes) if included is not None else [route]
    return walk(list(app.routes))


def test_a_batch_over_the_default_limit_is_within_its_own(xhttp_module: httpx.Client, system: System) -> None:
    """1,000 long claims, their letters escaped as \\uXXXX as some JSON libraries do (≈ 1.5 MB), pass the
    batch's 4 MiB, past the 1 MiB of ordinary routes."""
    person = resident(xhttp_module)
    item = {"personal_id": person["personal_id"], "full_name": "Nguyễn Thị Ngọc Diễm " * 9,
            "address": {"province": "01", "text": "Số nhà 12, ngõ 34, phố Huế, phường Hai Bà Trưng, Hà Nội " * 8}}
    body = json.dumps({"purpose": PURPOSE, "items": [item] * 1000}, ensure_ascii=True).encode()
    assert get_http_settings().max_body_bytes < len(body) < BODY_LIMITS["verify/batch"]
    response = xhttp_module.post("/exchange/v1/verify/batch", content=body, headers=bearer(
        system.token(xhttp_module), **{"content-type": "application/json"}))
    assert response.status_code == 200, response.text[:500]
    assert len(response.json()["items"]) == 1000

    verify = xhttp_module.post("/exchange/v1/verify", content=b" " * MiB + b"{}", headers=bearer(
        system.token(xhttp_module), **{"content-type": "application/json"}))
    assert verify.status_code == 413 and verify.json()["limit"] == BODY_LIMITS["verify"]


OPERATOR_AND_CITIZEN = {
    "/registry/residents": get_http_settings().max_body_bytes,  # an operator route: the default
    "/agencies/onboarding": get_http_settings().max_body_bytes,
    "/citizen/sms/inbound": APP_LIMITS["/citizen/"],
    "/citizen/portal/login": APP_LIMITS["/citizen/"],
    "/oauth/token": APP_LIMITS["/oauth/token"],
}


@pytest.mark.parametrize("path", sorted(OPERATOR_AND_CITIZEN))
def test_operator_and_citizen_routes_are_capped_too(exchange_server: str, path: str) -> None:
    limit = OPERATOR_AND_CITIZEN[path]
    content_type = "application/x-www-form-urlencoded" if "portal" in path or "oauth" in path else "application/json"
    assert_too_large(partial_body(exchange_server, path, declared=TWENTY_MB, sent=PREFIX,
                                  headers={"Content-Type": content_type, **ACTOR}), limit)
    assert_too_large(unending_chunks(exchange_server, path, chunks=chunks_of(limit + 1),
                                     headers={"Content-Type": content_type, **ACTOR}), limit)
