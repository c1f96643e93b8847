"""Accessibility of the portal, checked by axe-core (npm ``axe-core``, tests/peers) in headless Chromium: no
serious or critical violation of WCAG 2.x A/AA (and axe's best practices) on the login, register (also with
its error), recovery, code, password, record and history pages — in Vietnamese and in English, on a desktop
screen, a phone (390 px) and a 320 px screen, the last two also without sideways scrolling (WCAG 1.4.10).

axe is injected as a Playwright init script (the DevTools protocol, not a page script), so the portal's CSP
(``script-src 'self'``) stays as it is and still applies to the page's own scripts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dancu.citizen.providers.outbox import latest_to
from dancu.db import Database
from tests.citizen.conftest import bank_verification, code_in, make_resident
from tests.citizen.test_portal_browser import ARGS, CHROMIUM, playwright_api

AXE = Path(__file__).resolve().parents[1] / "peers" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="BROWSER TEST SKIPPED: /usr/bin/chromium missing "
                                 "(apt-get install -y chromium)"), pytest.mark.usefixtures("demo_outbox"),
              pytest.mark.skipif(not AXE.exists(), reason="AXE TEST SKIPPED: run `npm ci --prefix tests/peers` "
                                 "(python3 dev.py test does)")]
DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "narrow": {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True},  # 1.4.10 reflow
}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.map(n => n.target.join(' ') + ' ' + n.failureSummary)})))"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def violations(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(RUN, TAGS)
    return found


def serious(page: Any, what: str, report: dict[str, list[str]]) -> list[str]:
    """Serious and critical violations on the current page (every violation is kept in ``report``); on a
    phone or narrower, also any sideways scrolling (WCAG 1.4.10 reflow)."""
    found = violations(page)
    if page.viewport_size["width"] <= 390 and not page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"):
        found.append({"id": "reflow", "impact": "serious", "help": "scrolls sideways", "nodes": []})
    report[what] = [f"{v['impact']}: {v['id']}" for v in found]
    return [f"{what}: {v['impact']} {v['id']} — {v['help']} {v['nodes']}" for v in found
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("device", sorted(DEVICES))
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_serious_accessibility_violations(browser: Any, live_server: str, database: Database, lang: str,
                                             device: str) -> None:
    person = make_resident(database)
    bank_verification(live_server, person)  # a row in "who used my data"
    context = browser.new_context(locale="vi-VN" if lang == "vi" else "en-GB", **DEVICES[device])
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    problems: list[str] = []
    report: dict[str, list[str]] = {}
    try:
        page.goto(f"{live_server}/citizen/portal?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        problems += serious(page, "login", report)
        page.goto(f"{live_server}/citizen/portal/recover")
        problems += serious(page, "recover", report)
        page.goto(f"{live_server}/citizen/portal/register")
        problems += serious(page, "register", report)
        page.fill("#personal_id", person["personal_id"])
        page.fill("#full_name", "Không Phải Tên")
        page.fill("#date_of_birth", person["date_of_birth"])
        page.fill("#phone", person["phone"])
        page.click("button[type=submit]")
        assert page.locator("[role=alert]").count() == 1
        problems += serious(page, "register (error)", report)
        for field in ("personal_id", "full_name", "date_of_birth", "phone"):
            page.fill(f"#{field}", person[field])
        page.click("button[type=submit]")
        page.wait_for_url("**/citizen/portal/code")
        problems += serious(page, "code", report)
        with database.sessions() as session:
            page.fill("#code", code_in(latest_to(session, person["phone"]) or ""))
        page.click("button[type=submit]")
        page.wait_for_url("**/citizen/portal/password")
        problems += serious(page, "password", report)
        page.fill("#password", "mat-khau-rat-dai-2026")
        page.fill("#confirm", "mat-khau-rat-dai-2026")
        page.click("button[type=submit]")
        page.wait_for_url("**/citizen/portal/me")
        assert page.locator("html").get_attribute("lang") == lang
        problems += serious(page, "record", report)
        page.goto(f"{live_server}/citizen/portal/me/history")
        assert page.locator("#history tbody tr").count() == 1
        problems += serious(page, "history", report)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    assert len(report) == 8, report
