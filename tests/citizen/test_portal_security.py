"""Portal security over plain HTTP: headers, cookie flags, CSRF, lockout delays, code attempt limits."""

from __future__ import annotations

import re

import httpx

from dancu.db import Database
from tests.citizen.conftest import make_resident


def _csrf(client: httpx.Client, path: str = "/citizen/portal") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_headers_and_cookie(live_server: str) -> None:
    response = httpx.get(f"{live_server}/citizen/portal")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and 'lang="vi"' in response.text.replace("'", '"')


def test_forms_without_the_token_are_refused(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as client:
        _csrf(client)
        response = client.post("/citizen/portal/login", data={"personal_id": "001085012345", "password": "x"})
        assert response.status_code == 400 and "hết hạn" in response.text


def test_failed_logins_lock_with_growing_delays(live_server: str, database: Database) -> None:
    person = make_resident(database)
    with database.engine.begin() as conn:
        from dancu.citizen.portal.accounts import HASHER
        conn.exec_driver_sql("INSERT INTO citizen_account (personal_id, password_hash) VALUES (%s, %s)",
                             (person["personal_id"], HASHER.hash("dung-mat-khau-2026")))
    with httpx.Client(base_url=live_server) as client:
        token = _csrf(client)
        statuses = [client.post("/citizen/portal/login", data={"personal_id": person["personal_id"],
                                "password": "sai", "csrf": token}).status_code for _ in range(4)]
        assert statuses == [400, 400, 429, 429]
        right = client.post("/citizen/portal/login", data={"personal_id": person["personal_id"],
                            "password": "dung-mat-khau-2026", "csrf": token})
        assert right.status_code == 429 and "giây" in right.text


def test_code_attempts_are_limited(live_server: str, database: Database) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as client:
        token = _csrf(client)
        client.post("/citizen/portal/register", data={**{k: person[k] for k in ("personal_id", "full_name",
                    "date_of_birth", "phone")}, "csrf": token})
        from dancu.citizen.providers.outbox import latest_to
        with database.sessions() as session:
            code = re.search(r"[0-9]{6}", latest_to(session, person["phone"]) or "")
        assert code
        wrong = f"{(int(code.group(0)) + 1) % 1_000_000:06d}"
        for _ in range(5):
            assert client.post("/citizen/portal/code", data={"code": wrong, "csrf": token}).status_code == 400
        assert client.post("/citizen/portal/code", data={"code": code.group(0), "csrf": token}).status_code == 400


def test_registration_with_wrong_details_discloses_nothing(live_server: str, database: Database) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as client:
        token = _csrf(client)
        wrong_phone = client.post("/citizen/portal/register", data={**person, "phone": "0999999999", "csrf": token})
        unknown = client.post("/citizen/portal/register", data={**person, "personal_id": "001099000000",
                                                                 "csrf": token})
        assert wrong_phone.status_code == unknown.status_code == 400
        assert wrong_phone.text.replace(token, "") == unknown.text.replace(token, "")
