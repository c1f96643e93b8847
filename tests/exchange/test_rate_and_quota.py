"""The rate limits requests, the daily quota counts records: a batch or a job larger than ``rate_per_second`` is
one request (it used to be charged item by item against the rate, and so refused every time), while each of its
items counts against the quota."""

from __future__ import annotations

import time

import httpx
import orjson

from tests.agencies.factories import assert_problem
from tests.exchange.helpers import PURPOSE, bearer, grant, onboard, resident


def _batch(xhttp: httpx.Client, token: str, personal_id: str, size: int) -> httpx.Response:
    items = [{"personal_id": personal_id, "sex": "1"}] * size
    return xhttp.post("/exchange/v1/verify/batch", json={"purpose": PURPOSE, "items": items}, headers=bearer(token))


def _job(xhttp: httpx.Client, token: str, personal_id: str, lines: int) -> httpx.Response:
    body = b"\n".join(orjson.dumps({"personal_id": personal_id, "sex": "1"}) for _ in range(lines)) + b"\n"
    return xhttp.post(f"/exchange/v1/verify/jobs?purpose={PURPOSE}", content=body,
                      headers=bearer(token, **{"content-type": "application/x-ndjson"}))


def test_a_batch_larger_than_the_rate_is_one_request_and_its_items_count_against_the_quota(
        xhttp: httpx.Client) -> None:
    # rate 5: the bucket starts with 5 tokens and only fills up, so three requests pass whatever the timing
    system = onboard(xhttp, grant(rate_per_second=5, daily_quota=45))
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")["personal_id"]
    first = _batch(xhttp, token, person, 20)
    assert first.status_code == 200, first.text
    assert [item["match"] for item in first.json()["items"]] == [True] * 20
    assert _batch(xhttp, token, person, 20).status_code == 200  # 40 of 45 records today
    refused = _batch(xhttp, token, person, 20)  # 60 > 45: the quota refuses it, not the rate
    assert_problem(refused, 429, "quota_exceeded")
    assert _batch(xhttp, token, person, 5).status_code == 200  # exactly 45


def test_a_job_larger_than_the_rate_is_one_request_and_its_lines_count_against_the_quota(
        xhttp: httpx.Client) -> None:
    system = onboard(xhttp, grant(rate_per_second=5, daily_quota=100))
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")["personal_id"]
    started = _job(xhttp, token, person, 60)
    assert started.status_code == 202, started.text
    assert started.json()["total"] == 60
    assert_problem(_job(xhttp, token, person, 41), 429, "quota_exceeded")  # 101 > 100 lines today
    job_id = started.json()["job_id"]
    deadline = time.monotonic() + 30  # a bound against hanging, not a timing assertion
    while xhttp.get(f"/exchange/v1/verify/jobs/{job_id}", headers=bearer(token)).json()["state"] == "running":
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.2)
    assert _job(xhttp, token, person, 40).status_code == 202  # exactly 100


def test_the_rate_still_limits_batch_requests(xhttp: httpx.Client) -> None:
    # rate 1: one token, refilled at one a second; ten requests in a row cannot all find it refilled
    system = onboard(xhttp, grant(rate_per_second=1, daily_quota=100_000))
    token = system.token(xhttp)
    person = resident(xhttp, sex="1")["personal_id"]
    answers = [_batch(xhttp, token, person, 20) for _ in range(10)]
    assert answers[0].status_code == 200, answers[0].text
    refused = [a for a in answers if a.status_code != 200]
    assert refused, "ten batch requests at a rate of 1 per second all passed"
    for answer in refused:
        assert_problem(answer, 429, "rate_limited")
        assert answer.headers["Retry-After"] == "1"
