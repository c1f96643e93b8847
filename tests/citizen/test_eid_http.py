"""E-ID login against the real OpenID Connect provider (npm oidc-provider), over plain HTTP: state, replay,
cancellation, unknown personal ID, levels, and the exchange-log entries."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from dancu.citizen.portal.levels import BASIC_FIELDS
from dancu.db import Database
from tests.citizen.conftest import ledger_rows, make_resident
from tests.citizen.vneid import Vneid, login_over_http, provider_for, requires_provider

pytestmark = requires_provider


@pytest.fixture(scope="module")
def vneid(live_server: str) -> Iterator[Vneid]:
    with provider_for(live_server) as provider:
        yield provider


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as http:
        yield http


def _callback(response: httpx.Response) -> str:
    return str(response.headers["location"])


def test_level_2_sees_the_whole_record(vneid: Vneid, client: httpx.Client, database: Database) -> None:
    person = make_resident(database)
    password = vneid.add_user(person, level=2)
    callback = _callback(login_over_http(client, person["personal_id"], password))
    assert person["personal_id"] not in callback and set(parse_qs(urlsplit(callback).query)) == {"code", "state", "iss"}
    signed_in = client.get(callback)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/citizen/portal/me"
    me = client.get("/citizen/portal/me")
    assert person["full_name"] in me.text and "record.json" in me.text
    assert client.get("/citizen/portal/me/record.json").json()["resident"]["fields"]["personal_id"] == \
        person["personal_id"]
    assert client.get("/citizen/portal/me/history").status_code == 200
    [view, download, history] = ledger_rows(database, person["personal_id"], "citizen_portal")
    assert view.end_user.startswith("eid-subject:") and "permanent_province" in view.fields_disclosed
    assert download.fields_disclosed == view.fields_disclosed and history.fields_disclosed == ["access_history"]


def test_level_1_sees_basic_identity_only(vneid: Vneid, client: httpx.Client, database: Database) -> None:
    person = make_resident(database)
    client.get(_callback(login_over_http(client, person["personal_id"], vneid.add_user(person, level=1))))
    me = client.get("/citizen/portal/me")
    assert me.status_code == 200 and person["full_name"] in me.text and 'id="level-1"' in me.text
    assert "record.json" not in me.text and "/me/history" not in me.text and "/me/corrections" not in me.text
    for path in ("/me/record.json", "/me/record.pdf", "/me/history"):
        denied = client.get(f"/citizen/portal{path}")
        assert denied.status_code == 403 and person["personal_id"] not in denied.text
        assert (denied.headers["x-frame-options"], denied.headers["cache-control"]) == ("DENY", "no-store")
    [view] = ledger_rows(database, person["personal_id"], "citizen_portal")
    assert view.result == "answered" and set(view.fields_disclosed) <= set(BASIC_FIELDS)
    assert "full_name" in view.fields_disclosed


def test_a_personal_id_not_in_the_registry_gets_a_clear_page(vneid: Vneid, client: httpx.Client,
                                                               database: Database) -> None:
    stranger = {"personal_id": "001199000777", "full_name": "Người Lạ", "date_of_birth": "1999-01-01"}
    callback = _callback(login_over_http(client, stranger["personal_id"], vneid.add_user(stranger, level=2)))
    page = client.get(callback)
    assert page.status_code == 404 and 'id="eid-unknown"' in page.text and "Người Lạ" not in page.text
    assert client.get("/citizen/portal/me").status_code == 303
    assert [r.error_code for r in ledger_rows(database, stranger["personal_id"], "citizen_portal")][-1:] == [
        "not_in_registry"]


def test_a_forged_or_replayed_state_is_refused(vneid: Vneid, client: httpx.Client, database: Database) -> None:
    person = make_resident(database)
    callback = _callback(login_over_http(client, person["personal_id"], vneid.add_user(person, level=2)))
    forged = callback.replace("state=", "state=x")
    assert client.get(forged).status_code == 400  # and the pending request is now spent:
    assert client.get(callback).status_code == 400
    assert client.get("/citizen/portal/me").status_code == 303


def test_a_callback_in_another_browser_is_refused(vneid: Vneid, client: httpx.Client, live_server: str,
                                                  database: Database) -> None:
    person = make_resident(database)
    callback = _callback(login_over_http(client, person["personal_id"], vneid.add_user(person, level=2)))
    with httpx.Client(base_url=live_server) as other:
        assert other.get(callback).status_code == 400  # login CSRF: the state is bound to the session


def test_a_cancelled_login_says_so(vneid: Vneid, client: httpx.Client) -> None:
    start = client.get("/citizen/portal/eid/start")
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    cancelled = client.get("/citizen/portal/eid/callback", params={"error": "access_denied", "state": state})
    assert cancelled.status_code == 400 and "hủy" in cancelled.text


def test_wrong_password_at_the_provider_does_not_sign_in(vneid: Vneid, client: httpx.Client,
                                                         database: Database) -> None:
    person = make_resident(database)
    vneid.add_user(person, level=2)
    with pytest.raises(AssertionError):
        login_over_http(client, person["personal_id"], "not-the-password")
    assert vneid.wait("login")["ok"] is False
