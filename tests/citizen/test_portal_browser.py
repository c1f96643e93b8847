"""The portal in headless Chromium (Debian's chromium driven by Playwright): register, code, password,
log in again with password + code, record, downloads, who used my data, a correction and its answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from dancu.citizen import disclosure
from dancu.citizen.providers.outbox import latest_to
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.writer import LedgerWriter
from tests.citizen.conftest import ledger_rows, make_resident
from tests.operators.accounts import auth

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
playwright_api = pytest.importorskip("playwright.sync_api", reason="BROWSER TEST SKIPPED: pip install playwright")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="BROWSER TEST SKIPPED: /usr/bin/chromium missing "
                                "(apt-get install -y chromium; python3 dev.py test does it as root)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def _code(database: Database, phone: str) -> str:
    with database.sessions() as session:
        message = latest_to(session, phone)
    assert message is not None
    found = re.search(r"\b([0-9]{6})\b", message)
    assert found
    return found.group(1)


def _bank_verification(database: Database, personal_id: str) -> None:
    """An earlier eKYC verification by a bank, written to the exchange log like the exchange does."""
    url = libpq_url(database.url)
    entry = disclosure.entry(client_system="VN/COM/VCB/EKYC", service="verify", result="match",
                             personal_id=personal_id, fields=("full_name", "date_of_birth"))
    with LedgerWriter(lambda: psycopg.connect(url)) as writer:
        writer.append(replace(entry, purpose="xác thực khách hàng mở tài khoản"))


def test_citizen_journey(browser: Any, live_server: str, database: Database, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    person = make_resident(database)
    _bank_verification(database, person["personal_id"])
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live_server}/citizen/portal")
    page.screenshot(path=SHOTS / "portal-login.png", full_page=True)
    page.click("text=Đăng ký tài khoản")
    page.fill("#personal_id", person["personal_id"])
    page.fill("#full_name", person["full_name"].lower())
    page.fill("#date_of_birth", person["date_of_birth"])
    page.fill("#phone", "+84 " + person["phone"][1:])
    page.screenshot(path=SHOTS / "portal-register.png", full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/code")
    page.fill("#code", _code(database, person["phone"]))
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/password")
    page.fill("#password", "mat-khau-rat-dai-2026")
    page.fill("#confirm", "mat-khau-rat-dai-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/me")
    assert person["personal_id"] not in page.url

    page.click("text=Đăng xuất")
    page.wait_for_url("**/citizen/portal")
    page.fill("#personal_id", person["personal_id"])
    page.fill("#password", "mat-khau-rat-dai-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/code")
    page.screenshot(path=SHOTS / "portal-code.png", full_page=True)
    page.fill("#code", _code(database, person["phone"]))
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/me")
    assert person["full_name"] in page.content() and "Nguồn" in page.content()
    page.screenshot(path=SHOTS / "portal-record.png", full_page=True)

    with page.expect_download() as download:
        page.click("text=Tải về (JSON)")
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["resident"]["fields"]["personal_id"] == person["personal_id"]
    assert saved["resident"]["provenance"]["full_name"]["source"] == "test"
    with page.expect_download() as download:
        page.click("text=Tải về (PDF)")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.click("text=Ai đã dùng dữ liệu của tôi")
    page.wait_for_url("**/citizen/portal/me/history")
    assert "VN/COM/VCB/EKYC" in page.content() and "xác thực khách hàng mở tài khoản" in page.content()
    page.screenshot(path=SHOTS / "portal-history.png", full_page=True)

    page.goto(f"{live_server}/citizen/portal/me")
    page.select_option("#field", "permanent_address")
    page.fill("#requested_value", "15 phố Huế")
    page.fill("#reason", "Số nhà ghi sai")
    page.click("text=Gửi")
    page.wait_for_url("**/citizen/portal/me?sent=1")
    assert "Đã gửi yêu cầu điều chỉnh" in page.content()
    with httpx.Client(base_url=live_server, headers=auth("cb1")) as api:  # a reviewer
        [request] = api.get("/citizen/corrections", params={"personal_id": person["personal_id"]}).json()
        assert (request["field"], request["requested_value"]) == ("permanent_address", "15 phố Huế")
        answered = api.post(f"/citizen/corrections/{request['request_id']}/answer",
                            json={"status": "accepted", "answer": "Đã điều chỉnh"})
        assert answered.status_code == 200
    page.goto(f"{live_server}/citizen/portal/me?lang=en")
    assert "Đã điều chỉnh" in page.content() and "My record" in page.content()

    phone_page = browser.new_page(viewport={"width": 390, "height": 844})
    phone_page.context.add_cookies(context.cookies())
    phone_page.goto(f"{live_server}/citizen/portal/me")
    phone_page.screenshot(path=SHOTS / "portal-record-phone.png", full_page=False)
    context.close()
    views = ledger_rows(database, person["personal_id"], "citizen_portal")
    assert len(views) >= 6 and all(v.client_system == "VN/GOV/BCA/CITIZEN-PORTAL" for v in views)
