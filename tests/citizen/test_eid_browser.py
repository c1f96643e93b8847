"""E-ID login in headless Chromium (Debian's chromium, Playwright) through the real OpenID Connect provider
(npm oidc-provider, started here as a node process): level 1 sees basic identity only, level 2 the whole
record; no personal ID in any URL the browser requests nor in any log record written meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dancu.citizen.portal.levels import BASIC_FIELDS
from dancu.db import Database
from tests.citizen.conftest import Recorder, ledger_rows, make_resident
from tests.citizen.test_portal_browser import ARGS, CHROMIUM, SHOTS, playwright_api
from tests.citizen.vneid import Vneid, provider_for, requires_provider

pytestmark = [requires_provider, pytest.mark.skipif(not CHROMIUM.exists(), reason="BROWSER TEST SKIPPED: "
                                                    "/usr/bin/chromium missing (apt-get install -y chromium)")]


@pytest.fixture(scope="module")
def vneid(live_server: str) -> Iterator[Vneid]:
    with provider_for(live_server) as provider:
        yield provider


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def _login(browser: Any, live_server: str, person: dict[str, Any], password: str, shots: bool = False
           ) -> tuple[Any, list[str]]:
    context = browser.new_context(locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(f"{live_server}/citizen/portal")
    if shots:
        page.screenshot(path=SHOTS / "portal-eid-login.png", full_page=True)
    page.click("#eid-login")
    page.wait_for_selector("#password")
    page.fill("#login", person["personal_id"])
    page.fill("#password", password)
    if shots:
        page.screenshot(path=SHOTS / "portal-eid-provider.png", full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/me")
    return page, urls


def _no_personal_id_leaks(person: dict[str, Any], urls: list[str], recorder: Recorder) -> None:
    # the provider's login form is POSTed: the ID travels in bodies, never in a URL (what access logs keep)
    assert urls and not [u for u in urls if person["personal_id"] in u]
    assert not [line for line in recorder.lines if person["personal_id"] in line]


def test_level_1_sees_basic_identity_only(browser: Any, vneid: Vneid, live_server: str, database: Database,
                                          recorder: Recorder) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    person = make_resident(database)
    page, urls = _login(browser, live_server, person, vneid.add_user(person, level=1), shots=True)
    content = page.content()
    assert person["full_name"] in content and "mức 1" in content and "Nguồn" in content
    assert page.locator("text=Tải về (JSON)").count() == 0 and page.locator("text=Hộ gia đình").count() == 0
    assert page.locator("text=Ai đã dùng dữ liệu của tôi").count() == 0
    assert page.locator("#requested_value").count() == 0
    page.screenshot(path=SHOTS / "portal-eid-level1.png", full_page=True)
    for path in ("/me/record.json", "/me/history"):
        response = page.goto(f"{live_server}/citizen/portal{path}")
        assert response is not None and response.status == 403 and "mức 2" in page.content()
    page.context.close()
    [view] = ledger_rows(database, person["personal_id"], "citizen_portal")
    assert set(view.fields_disclosed) <= set(BASIC_FIELDS) and view.end_user.startswith("eid-subject:")
    _no_personal_id_leaks(person, urls, recorder)


def test_level_2_sees_the_whole_record(browser: Any, vneid: Vneid, live_server: str, database: Database,
                                       recorder: Recorder) -> None:
    person = make_resident(database)
    page, urls = _login(browser, live_server, person, vneid.add_user(person, level=2))
    assert person["full_name"] in page.content() and page.locator("#level-1").count() == 0
    with page.expect_download() as download:
        page.click("text=Tải về (JSON)")
    assert person["personal_id"] in Path(download.value.path()).read_text()
    page.click("text=Ai đã dùng dữ liệu của tôi")
    page.wait_for_url("**/citizen/portal/me/history")
    page.goto(f"{live_server}/citizen/portal/me")
    assert page.locator("#requested_value").count() == 1
    page.screenshot(path=SHOTS / "portal-eid-level2.png", full_page=True)
    page.context.close()
    views = ledger_rows(database, person["personal_id"], "citizen_portal")
    assert len(views) == 4 and "permanent_province" in views[0].fields_disclosed
    _no_personal_id_leaks(person, urls, recorder)
