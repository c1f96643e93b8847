"""What every portal page shares: security headers, templates, language, the clock, who is signed in."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from dancu.citizen.clock import clock
from dancu.citizen.models import EidSubject, PortalAccount, PortalSession
from dancu.citizen.portal import levels, sessions
from dancu.citizen.portal.i18n import field_label, result_label, status_label, translator
from dancu.citizen.settings import get_citizen_settings
from dancu.ledger.errors import LedgerUnavailable

HERE = Path(__file__).parent
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store", "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


class SecureRoute(APIRoute):
    """Adds the security headers to every portal response.  When the exchange log cannot be written, the
    page (whose disclosure it would have recorded) is not shown: an HTML 503 saying so, nothing personal."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            try:
                response = await handler(request)
            except LedgerUnavailable:
                response = unavailable(request)
            response.headers.update(HEADERS)
            return response

        return secured


def unavailable(request: Request) -> HTMLResponse:
    """The page shown when nothing may be shown (no session touched: the request's transaction is gone)."""
    language = lang(request)
    body = ENV.get_template("unavailable.html").render(
        t=translator(language), lang=language, csrf="", signed_in=False, level=None, full=False, label=field_label,
        result_label=result_label, status_label=status_label, eid_enabled=False)
    return HTMLResponse(body, status_code=503, headers={"Retry-After": "60"})


@dataclass(frozen=True)
class Viewer:
    """A signed-in citizen: whose record, at which assurance level, and how the exchange log names them."""

    portal: PortalSession
    personal_id: str
    level: int
    end_user: str


def lang(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("lang")
    return "en" if wanted == "en" else "vi"


def current(session: Session, request: Request) -> PortalSession | None:
    return sessions.current(session, request, clock(request)())


def viewer(session: Session, request: Request) -> Viewer | None:
    portal = current(session, request)
    if portal is None or portal.stage != "signed_in":
        return None
    if portal.eid_subject_id is not None:
        subject = session.get(EidSubject, portal.eid_subject_id)
        if subject is None or portal.access_level is None:
            return None
        return Viewer(portal, subject.personal_id, portal.access_level, f"eid-subject:{subject.subject_id}")
    account = session.get(PortalAccount, portal.account_id) if portal.account_id is not None else None
    if account is None:
        return None
    return Viewer(portal, account.personal_id, portal.access_level or levels.PORTAL_ACCOUNT_LEVEL,
                  f"portal-account:{account.account_id}")


def page(request: Request, session: Session, template: str, portal: PortalSession | None = None,
         status: int = 200, **context: Any) -> HTMLResponse:
    language = lang(request)
    response = HTMLResponse(status_code=status)
    if portal is None:
        portal = sessions.start(session, get_citizen_settings(), response, now=clock(request)())
    signed_in = portal.stage == "signed_in"
    level = (portal.access_level or levels.PORTAL_ACCOUNT_LEVEL) if signed_in else None
    body = ENV.get_template(template).render(
        t=translator(language), lang=language, csrf=portal.csrf_token, signed_in=signed_in, level=level,
        full=levels.allows(level, levels.Action.VIEW_RECORD), label=field_label,
        result_label=result_label, status_label=status_label,
        eid_enabled=get_citizen_settings().oidc_enabled, **context)
    response.body = response.render(body)
    response.headers["content-length"] = str(len(response.body))
    if request.query_params.get("lang") in ("vi", "en"):
        response.set_cookie("lang", language, samesite="lax", path="/citizen/portal", max_age=365 * 86400)
    return response


def go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
