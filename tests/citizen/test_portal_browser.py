"""The portal in headless Chromium (Debian's chromium driven by Playwright): register, code, password,
log in again with password + code, record, downloads, who used my data (a bank's real verification through
the exchange API), the English switch, a correction and its answer, the phone layout; and nothing personal in
any URL or log.  The one-time codes go out by SMS: the ESME (``SmppRunner``, as ``dancu citizen smpp`` runs it)
is bound to the npm `smpp` SMSC, and the test reads each code from the submit_sm the SMSC received."""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from dancu.citizen.delivery.service import international
from dancu.citizen.settings import CitizenSettings
from dancu.citizen.sms.runner import SmppRunner
from dancu.db import Database
from dancu.db.engine import libpq_url
from dancu.ledger.writer import LedgerWriter
from tests.citizen.conftest import (
    BANK_PURPOSE,
    Recorder,
    bank_verification,
    code_in,
    ledger_rows,
    make_resident,
    outbox_rows,
)
from tests.citizen.test_sms_smpp import Smsc
from tests.citizen.test_sms_smpp import pytestmark as smsc_skips
from tests.operators.accounts import auth

CHROMIUM = Path("/usr/bin/chromium")
# The screenshots in docs/ are these pages; rewritten only when asked (DANCU_SCREENSHOTS=1), so that a test run
# leaves the checkout as it found it.  Otherwise they are still taken (rendering must not fail), into a temp dir.
SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("DANCU_SCREENSHOTS")
         else Path(tempfile.mkdtemp(prefix="dancu-screenshots-")))
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
playwright_api = pytest.importorskip("playwright.sync_api", reason="BROWSER TEST SKIPPED: pip install playwright")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="BROWSER TEST SKIPPED: /usr/bin/chromium missing "
                                "(apt-get install -y chromium; python3 dev.py test does it as root)")


def smsc_marks(test: Any) -> Any:
    """The SMSC's skip reasons (node, npm smpp) on one test."""
    for mark in smsc_skips:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def esme(database: Database, smpp_delivery: None) -> Iterator[Smsc]:
    """The npm SMSC, and the long-running ESME bound to it in a thread (sending the outbox's texts)."""
    smsc = Smsc()
    settings = CitizenSettings(smpp_port=smsc.port, sms_delivery_poll_s=0.1)
    try:
        with LedgerWriter(lambda: psycopg.connect(libpq_url(database.url))) as writer:
            runner = SmppRunner(database, writer, settings)
            thread = threading.Thread(target=runner.run, name="esme", daemon=True)
            thread.start()
            smsc.wait("bind_transceiver", timeout=30)
            yield smsc
            runner.stop()
            thread.join(timeout=15)
    finally:
        smsc.stop()


def _code(smsc: Smsc, phone: str, sent: list[dict[str, Any]]) -> str:
    """The code in the next SMS the SMSC received for ``phone`` (kept in ``sent``)."""
    [pdu] = smsc.texts_to(international(phone)[0])
    sent.append(pdu)
    return code_in(pdu["message"])


def settled_all(database: Database, phone: str, count: int) -> list[Any]:
    """The outbox rows to ``phone`` once ``count`` of them are sent."""
    deadline = time.monotonic() + 15
    while len([r for r in outbox_rows(database, phone) if r.status == "sent"]) < count:
        assert time.monotonic() < deadline, outbox_rows(database, phone)
        time.sleep(0.05)
    return outbox_rows(database, phone)


def _no_horizontal_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _stacked_with_labels(page: Any, table: str) -> None:
    """On a phone every cell is its own line and says which column it is (the column headers are hidden)."""
    assert page.locator(f"{table} thead").evaluate("e => getComputedStyle(e).display") == "none"
    cell = page.locator(f"{table} tbody td[data-label]").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "block"
    label = cell.get_attribute("data-label")
    assert label and label in cell.evaluate("e => getComputedStyle(e, '::before').content")


@smsc_marks
def test_citizen_journey(browser: Any, live_server: str, database: Database, recorder: Recorder, esme: Smsc) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    person = make_resident(database)
    bank = bank_verification(live_server, person)  # the earlier eKYC check, through the exchange API
    recorder.lines.clear()  # from here on: the citizen's session
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
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
    sent: list[dict[str, Any]] = []
    page.fill("#code", _code(esme, person["phone"], sent))
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/password")
    page.fill("#password", "mat-khau-rat-dai-2026")
    page.fill("#confirm", "mat-khau-rat-dai-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/me")

    page.click("text=Đăng xuất")
    page.wait_for_url("**/citizen/portal")
    page.fill("#personal_id", person["personal_id"])
    page.fill("#password", "mat-khau-rat-dai-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/code")
    page.screenshot(path=SHOTS / "portal-code.png", full_page=True)
    page.fill("#code", _code(esme, person["phone"], sent))
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/portal/me")
    assert person["full_name"] in page.content() and "Nguồn" in page.content()
    year, month, day = person["date_of_birth"].split("-")
    assert f"{day}/{month}/{year}" in page.content()  # dates read day first, as Vietnamese write them
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
    rows = page.locator("#history tbody tr")
    assert rows.count() == 1  # the bank; the citizen's own views and downloads are left out
    when, agency, purpose, fields, result = rows.first.locator("td").all_inner_texts()
    assert agency == f"{bank.organisation} ({bank.system})" and purpose == BANK_PURPOSE
    assert fields == "Ngày, tháng, năm sinh, Họ, chữ đệm và tên" and result == "Đã trả lời"
    assert re.fullmatch(r"\d\d/\d\d/20\d\d \d\d:\d\d", when)
    page.screenshot(path=SHOTS / "portal-history.png", full_page=True)

    page.click("text=English")  # the language switch, remembered for the pages that follow
    assert page.locator("html").get_attribute("lang") == "en" and page.locator("h1").inner_text() == "Who used my data"
    assert rows.first.locator("td").all_inner_texts()[3:] == ["Date of birth, Full name", "Answered"]
    page.click("text=My record")
    page.wait_for_url("**/citizen/portal/me")
    assert page.locator("h1").inner_text() == "My record" and page.locator("text=Download (JSON)").count() == 1
    page.click("text=Tiếng Việt")
    assert page.locator("html").get_attribute("lang") == "vi" and page.locator("h1").inner_text() == \
        "Thông tin của tôi"

    page.select_option("#field", "permanent_address")
    page.fill("#requested_value", "15 phố Huế")
    page.fill("#reason", "Số nhà ghi sai")
    page.click("text=Gửi")
    page.wait_for_url("**/citizen/portal/me?sent=1")
    assert "Đã gửi yêu cầu điều chỉnh" in page.content() and "Trạng thái: Đang xử lý" in page.content()
    with httpx.Client(base_url=live_server, headers=auth("cb1")) as api:  # a reviewer
        [request] = api.get("/citizen/corrections", params={"personal_id": person["personal_id"]}).json()
        assert (request["field"], request["requested_value"]) == ("permanent_address", "15 phố Huế")
        answered = api.post(f"/citizen/corrections/{request['request_id']}/answer",
                            json={"status": "accepted", "answer": "Đã điều chỉnh"})
        assert answered.status_code == 200
    page.goto(f"{live_server}/citizen/portal/me?lang=en")
    assert "Answer: Đã điều chỉnh" in page.content() and "Status: Accepted" in page.content()
    page.goto(f"{live_server}/citizen/portal/me?lang=vi")

    phone_page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone_page.on("request", lambda request: urls.append(request.url))
    phone_page.context.add_cookies(context.cookies())
    phone_page.goto(f"{live_server}/citizen/portal/me")
    assert person["full_name"] in phone_page.content()
    _no_horizontal_scroll(phone_page)
    _stacked_with_labels(phone_page, "#record")
    phone_page.screenshot(path=SHOTS / "portal-record-phone.png", full_page=False)
    phone_page.goto(f"{live_server}/citizen/portal/me/history")
    _no_horizontal_scroll(phone_page)
    _stacked_with_labels(phone_page, "#history")
    phone_page.context.close()
    context.close()

    # both codes went out by SMS, and no row of the outbox still holds them
    rows = settled_all(database, person["phone"], 2)
    assert [(r.kind, r.channel, r.status, r.text) for r in rows] == [
        ("otp:register", "smpp", "sent", None), ("otp:login", "smpp", "sent", None)]
    assert [r.provider_message_id for r in rows] == [p["message_id"] for p in sent]

    views = ledger_rows(database, person["personal_id"], "citizen_portal")
    assert len(views) >= 6 and all(v.client_system == "VN/GOV/BCA/CITIZEN-PORTAL" for v in views)
    # nothing personal in any URL the browsers requested (what an access log keeps) nor in the process's logs
    # (the test's own httpx client, which names the ID in the reviewer's query, is not the application)
    secrets = (person["personal_id"], person["phone"], person["phone"][1:], person["date_of_birth"],
               *(code_in(p["message"]) for p in sent))
    assert len(urls) > 20 and [u for u in urls if any(s in u for s in secrets)] == []
    assert [line for line in recorder.mentioning(*secrets) if not line.startswith(("httpx ", "httpcore"))] == []
