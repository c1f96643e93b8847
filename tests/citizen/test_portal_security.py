"""Portal security over plain HTTP: headers on every response, nothing personal in URLs, cookie flags, CSRF,
lockout delays after wrong passwords and wrong codes, code attempts and expiry, session lifetime, recovery.
Time moves with the application's clock (``travel``), never by sleeping."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from dancu.citizen.settings import get_citizen_settings
from dancu.db import Database
from tests.citizen.conftest import TimeTravel, make_resident, window_start

# codes are read from the development/demo outbox, configured explicitly (test_sms_delivery.py sends them by SMPP)
pytestmark = pytest.mark.usefixtures("demo_outbox")


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


def _outbox(database: Database, phone: str) -> list[str]:
    with database.engine.connect() as conn:
        return [row.text for row in conn.execute(text(
            "SELECT text FROM citizen_sms_outbox WHERE to_number = :to ORDER BY message_id"), {"to": phone})]


def _code(database: Database, phone: str) -> str:
    found = re.search(r"\b([0-9]{6})\b", _outbox(database, phone)[-1])
    assert found
    return found.group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _details(person: dict[str, Any]) -> dict[str, str]:
    return {k: person[k] for k in ("personal_id", "full_name", "date_of_birth", "phone")}


def _register(client: httpx.Client, database: Database, person: dict[str, Any],
              password: str = "mat-khau-rat-dai-2026") -> None:
    """Register over HTTP — details, the code sent to the registered phone, a password: signed in."""
    sent = client.post("/citizen/portal/register", data={**_details(person), "csrf": _csrf(client)})
    assert (sent.status_code, sent.headers["location"]) == (303, "/citizen/portal/code")
    coded = client.post("/citizen/portal/code", data={"code": _code(database, person["phone"]),
                                                      "csrf": _csrf(client, "/citizen/portal/code")})
    assert (coded.status_code, coded.headers["location"]) == (303, "/citizen/portal/password")
    done = client.post("/citizen/portal/password", data={"password": password, "confirm": password,
                                                         "csrf": _csrf(client, "/citizen/portal/password")})
    assert (done.status_code, done.headers["location"]) == (303, "/citizen/portal/me")


def _secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    for name, value in {"x-frame-options": "DENY", "x-content-type-options": "nosniff",
                        "referrer-policy": "no-referrer", "cache-control": "no-store"}.items():
        assert response.headers.get(name) == value, (where, name)
    policy = response.headers.get("content-security-policy", "")
    assert all(d in policy for d in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'")), where
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where


def test_every_portal_response_is_secured_and_no_url_is_personal(live_server: str, database: Database) -> None:
    """Pages, redirects, refusals, downloads and the stylesheet all carry the headers; no request URL and no
    redirect names the ID, the phone or the date of birth."""
    person = make_resident(database)
    seen: list[httpx.Response] = []
    with httpx.Client(base_url=live_server, event_hooks={"response": [seen.append]}) as client:
        for path in ("/citizen/portal", "/citizen/portal/register", "/citizen/portal/recover",
                     "/citizen/portal/static/portal.css", "/citizen/portal/me", "/citizen/portal/code",
                     "/citizen/portal/eid/start", "/citizen/portal?lang=en"):
            client.get(path)
        client.post("/citizen/portal/login", data={"personal_id": person["personal_id"], "password": "x"})
        _register(client, database, person)
        for path in ("/citizen/portal/me", "/citizen/portal/me/history", "/citizen/portal/me/record.json",
                     "/citizen/portal/me/record.pdf"):
            assert client.get(path).status_code == 200, path
        token = _csrf(client, "/citizen/portal/me")
        client.post("/citizen/portal/me/corrections", data={"field": "permanent_address", "requested_value": "1 Huế",
                                                             "reason": "sai", "csrf": token})
        client.post("/citizen/portal/logout", data={"csrf": token})
    statuses = {r.status_code for r in seen}
    assert {200, 303, 400} <= statuses and len(seen) >= 20
    assert {r.headers.get("content-type", "").split(";")[0] for r in seen} >= {
        "text/html", "text/css", "application/json", "application/pdf"}
    for response in seen:
        _secured(response)
    personal = (person["personal_id"], person["phone"], person["phone"][1:], person["date_of_birth"])
    places = [str(r.request.url) for r in seen] + [r.headers.get("location", "") for r in seen]
    assert [p for p in places if any(s in p for s in personal)] == []


def test_the_session_cookie_is_secure_behind_tls(live_server: str) -> None:
    def session_cookie() -> str:
        cookies = httpx.get(f"{live_server}/citizen/portal").headers.get_list("set-cookie")
        [cookie] = [c for c in cookies if c.startswith("dancu_portal=")]
        return cookie.lower()

    settings = get_citizen_settings()
    plain = session_cookie()
    assert "httponly" in plain and "samesite=lax" in plain and "path=/citizen/portal" in plain
    assert "max-age=1800" in plain and "secure" not in plain.replace("samesite", "")
    settings.cookie_secure = True
    try:
        assert "; secure" in session_cookie()
    finally:
        settings.cookie_secure = False


def test_wrong_codes_lock_the_account_and_spend_the_code(live_server: str, database: Database,
                                                          travel: TimeTravel) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as client:
        token = _csrf(client)
        client.post("/citizen/portal/register", data={**_details(person), "csrf": token})
        code = _code(database, person["phone"])

        def submit(guess: str) -> httpx.Response:
            return client.post("/citizen/portal/code", data={"code": guess, "csrf": token})

        assert [submit(_wrong(code)).status_code for _ in range(3)] == [400, 400, 429]  # locked for 30 s
        locked = submit(code)
        assert locked.status_code == 429 and "giây" in locked.text  # while locked, not even the right code
        travel.by(seconds=30)
        assert submit(_wrong(code)).status_code == 429  # the 4th failure: 60 s
        travel.by(seconds=60)
        assert submit(_wrong(code)).status_code == 429  # the 5th: 120 s, and the code's 5 attempts are spent
        travel.by(seconds=120)  # 3.5 minutes after the code was sent: not expired, not locked
        spent = submit(code)
        assert spent.status_code == 400 and "không đúng hoặc đã hết hạn" in spent.text
        assert client.get("/citizen/portal/me").status_code == 303


def test_an_expired_code_is_refused(live_server: str, database: Database, travel: TimeTravel) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as client:
        client.post("/citizen/portal/register", data={**_details(person), "csrf": _csrf(client)})
        travel.by(minutes=5)
        late = client.post("/citizen/portal/code", data={"code": _code(database, person["phone"]),
                                                         "csrf": _csrf(client, "/citizen/portal/code")})
        assert late.status_code == 400 and "hết hạn" in late.text
        again = _csrf(client, "/citizen/portal/register")
        client.post("/citizen/portal/register", data={**_details(person), "csrf": again})
        travel.by(minutes=4, seconds=55)
        in_time = client.post("/citizen/portal/code", data={"code": _code(database, person["phone"]),
                                                            "csrf": _csrf(client, "/citizen/portal/code")})
        assert (in_time.status_code, in_time.headers["location"]) == (303, "/citizen/portal/password")


def test_a_session_ends_after_30_minutes(live_server: str, database: Database, travel: TimeTravel) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as client:
        _register(client, database, person)
        travel.by(minutes=29, seconds=30)
        assert client.get("/citizen/portal/me").status_code == 200
        travel.by(seconds=31)
        ended = client.get("/citizen/portal/me")
        assert (ended.status_code, ended.headers.get("location")) == (303, "/citizen/portal")


def test_recovery_sets_a_new_password_and_ends_other_sessions(live_server: str, database: Database) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as owner, httpx.Client(base_url=live_server) as wrong, \
            httpx.Client(base_url=live_server) as recovering:
        _register(owner, database, person, "mat-khau-cu-2026")
        assert owner.get("/citizen/portal/me").status_code == 200
        sent_before = len(_outbox(database, person["phone"]))

        mismatch = wrong.post("/citizen/portal/recover", data={"personal_id": person["personal_id"],
                              "phone": "0999999999", "csrf": _csrf(wrong, "/citizen/portal/recover")})
        match = recovering.post("/citizen/portal/recover", data={
            "personal_id": person["personal_id"], "phone": "+84 " + person["phone"][1:],
            "csrf": _csrf(recovering, "/citizen/portal/recover")})
        assert mismatch.headers["location"] == match.headers["location"] == "/citizen/portal/code"
        pages = [c.get("/citizen/portal/code").text for c in (wrong, recovering)]
        assert re.sub(r'value="[^"]+"', "", pages[0]) == re.sub(r'value="[^"]+"', "", pages[1])
        assert "Nếu thông tin khớp" in pages[0]
        assert len(_outbox(database, person["phone"])) == sent_before + 1  # only the matching request sent one

        coded = recovering.post("/citizen/portal/code", data={"code": _code(database, person["phone"]),
                                "csrf": _csrf(recovering, "/citizen/portal/code")})
        assert coded.headers["location"] == "/citizen/portal/password"
        reset = recovering.post("/citizen/portal/password", data={
            "password": "mat-khau-moi-2026", "confirm": "mat-khau-moi-2026",
            "csrf": _csrf(recovering, "/citizen/portal/password")})
        assert reset.headers["location"] == "/citizen/portal/me"
        assert recovering.get("/citizen/portal/me").status_code == 200
        ended = owner.get("/citizen/portal/me")  # the session signed in before the recovery is over
        assert (ended.status_code, ended.headers.get("location")) == (303, "/citizen/portal")

    with httpx.Client(base_url=live_server) as client:
        token = _csrf(client)
        old = client.post("/citizen/portal/login", data={"personal_id": person["personal_id"],
                                                         "password": "mat-khau-cu-2026", "csrf": token})
        new = client.post("/citizen/portal/login", data={"personal_id": person["personal_id"],
                                                         "password": "mat-khau-moi-2026", "csrf": token})
        assert old.status_code == 400 and (new.status_code, new.headers["location"]) == (303, "/citizen/portal/code")


def test_registration_with_wrong_details_discloses_nothing(live_server: str, database: Database) -> None:
    person = make_resident(database)
    with httpx.Client(base_url=live_server) as client:
        token = _csrf(client)
        wrong_phone = client.post("/citizen/portal/register", data={**person, "phone": "0999999999", "csrf": token})
        unknown = client.post("/citizen/portal/register", data={**person, "personal_id": "001099000000",
                                                                 "csrf": token})
        assert wrong_phone.status_code == unknown.status_code == 400
        assert wrong_phone.text.replace(token, "") == unknown.text.replace(token, "")


def test_codes_to_one_number_are_capped_per_window(live_server: str, database: Database,
                                                   travel: TimeTravel) -> None:
    """Codes cost an SMS each: registration, login and recovery send at most 5 to a number per 10 minutes."""
    person = make_resident(database)
    travel.to(window_start(datetime.now(UTC)) + timedelta(seconds=1))
    with httpx.Client(base_url=live_server) as client:
        token = _csrf(client)
        statuses = [client.post("/citizen/portal/register", data={**_details(person), "csrf": token}).status_code
                    for _ in range(6)]
        assert statuses == [303] * 5 + [429]
        refused = client.post("/citizen/portal/register", data={**_details(person), "csrf": token})
        assert refused.status_code == 429 and "quá nhiều mã xác thực" in refused.text
        recovered = client.post("/citizen/portal/recover", data={"personal_id": person["personal_id"],
                                                                 "phone": person["phone"], "csrf": token})
        assert recovered.headers["location"] == "/citizen/portal/code"  # the same page, and no code sent
        assert len(_outbox(database, person["phone"])) == 5
        travel.by(seconds=600)  # the next window
        again = client.post("/citizen/portal/register", data={**_details(person), "csrf": token})
        assert again.status_code == 303 and len(_outbox(database, person["phone"])) == 6
