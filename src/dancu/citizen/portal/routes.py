"""Portal pages (HTML forms, not part of the JSON API: include_in_schema=False).

Every form carries the session's CSRF synchroniser token; every response carries the security headers;
nothing personal goes into a URL (IDs travel in POST bodies and the server-side session only).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from dancu.catalogs.service import CatalogLookup
from dancu.citizen import disclosure
from dancu.citizen.corrections import service as corrections
from dancu.citizen.models import PortalAccount, PortalSession
from dancu.citizen.portal import accounts, sessions, views
from dancu.citizen.portal.accounts import PortalError
from dancu.citizen.portal.i18n import field_label, translator
from dancu.citizen.providers import SmsProvider
from dancu.citizen.providers.outbox import OutboxProvider
from dancu.citizen.settings import get_citizen_settings
from dancu.errors import DancuError
from dancu.kit.http import DbSession

HERE = Path(__file__).parent
SERVICE = "citizen_portal"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store", "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


class SecureRoute(APIRoute):
    """Adds the security headers to every portal response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            response = await handler(request)
            response.headers.update(HEADERS)
            return response

        return secured


router = APIRouter(prefix="/citizen/portal", include_in_schema=False, route_class=SecureRoute)
Text = Annotated[str, Form(max_length=200)]


def _lang(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get("lang")
    return "en" if wanted == "en" else "vi"


def _provider(request: Request) -> SmsProvider:
    provider: SmsProvider | None = getattr(request.app.state, "sms_provider", None)
    return provider or OutboxProvider()


def _page(request: Request, session: Session, template: str, portal: PortalSession | None = None,
          status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    response = HTMLResponse(status_code=status)
    if portal is None:
        portal = sessions.start(session, get_citizen_settings(), response)
    body = ENV.get_template(template).render(t=translator(lang), lang=lang, csrf=portal.csrf_token,
                                             signed_in=portal.stage == "signed_in", label=field_label, **context)
    response.body = response.render(body)
    response.headers["content-length"] = str(len(response.body))
    if request.query_params.get("lang") in ("vi", "en"):
        response.set_cookie("lang", lang, samesite="lax", path="/citizen/portal", max_age=365 * 86400)
    return response


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _guard(session: Session, request: Request, csrf: str) -> PortalSession | None:
    portal = sessions.current(session, request)
    return portal if sessions.csrf_ok(portal, csrf) else None


@router.get("/static/portal.css")
def stylesheet() -> Response:
    return Response((HERE / "static" / "portal.css").read_bytes(), media_type="text/css")


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> Response:
    portal = sessions.current(session, request)
    if portal is not None and portal.stage == "signed_in":
        return _go("/citizen/portal/me")
    return _page(request, session, "login.html", portal)


def _form_error(request: Request, session: Session, template: str, portal: PortalSession | None,
                error: PortalError) -> HTMLResponse:
    message = translator(_lang(request))[error.key].format(seconds=error.seconds)
    return _page(request, session, template, portal, status=400 if error.key != "locked" else 429, error=message)


@router.post("/login")
def login(request: Request, session: DbSession, personal_id: Text = "", password: Annotated[str, Form()] = "",
          csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "login.html", None, PortalError("csrf"))
    try:
        accounts.login(session, _provider(request), get_citizen_settings(), portal, personal_id, password[:1024])
    except PortalError as error:
        return _form_error(request, session, "login.html", portal, error)
    return _go("/citizen/portal/code")


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, session: DbSession) -> Response:
    return _page(request, session, "register.html", sessions.current(session, request))


@router.post("/register")
def register(request: Request, session: DbSession, personal_id: Text = "", full_name: Text = "",
             date_of_birth: Text = "", phone: Text = "", csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "register.html", None, PortalError("csrf"))
    try:
        accounts.register(session, _provider(request), get_citizen_settings(), portal, personal_id, full_name,
                          date_of_birth, phone)
    except PortalError as error:
        return _form_error(request, session, "register.html", portal, error)
    return _go("/citizen/portal/code")


@router.get("/recover", response_class=HTMLResponse)
def recover_page(request: Request, session: DbSession) -> Response:
    return _page(request, session, "recover.html", sessions.current(session, request))


@router.post("/recover")
def recover(request: Request, session: DbSession, personal_id: Text = "", phone: Text = "",
            csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "recover.html", None, PortalError("csrf"))
    accounts.recover(session, _provider(request), get_citizen_settings(), portal, personal_id, phone)
    return _go("/citizen/portal/code")


@router.get("/code", response_class=HTMLResponse)
def code_page(request: Request, session: DbSession) -> Response:
    portal = sessions.current(session, request)
    if portal is None or portal.stage != "code":
        return _go("/citizen/portal")
    return _page(request, session, "code.html", portal, recovering=portal.purpose == "recover")


@router.post("/code")
def code(request: Request, session: DbSession, code: Annotated[str, Form(max_length=20)] = "",
         csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "login.html", None, PortalError("csrf"))
    try:
        portal.stage = accounts.check_code(session, get_citizen_settings(), portal, code)
    except PortalError as error:
        return _form_error(request, session, "code.html", portal, error)
    response = _go("/citizen/portal/me" if portal.stage == "signed_in" else "/citizen/portal/password")
    sessions.start(session, get_citizen_settings(), response, previous=portal)
    return response


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, session: DbSession) -> Response:
    portal = sessions.current(session, request)
    if portal is None or portal.stage != "password":
        return _go("/citizen/portal")
    return _page(request, session, "password.html", portal)


@router.post("/password")
def password(request: Request, session: DbSession, password: Annotated[str, Form()] = "",
             confirm: Annotated[str, Form()] = "", csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "login.html", None, PortalError("csrf"))
    try:
        accounts.set_password(session, portal, password, confirm)
    except PortalError as error:
        return _form_error(request, session, "password.html", portal, error)
    portal.stage = "signed_in"
    response = _go("/citizen/portal/me")
    sessions.start(session, get_citizen_settings(), response, previous=portal)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    response = _go("/citizen/portal")
    sessions.end(session, portal, response)
    return response


def _signed_in(session: Session, request: Request) -> tuple[PortalSession, str] | None:
    portal = sessions.current(session, request)
    if portal is None or portal.stage != "signed_in" or portal.account_id is None:
        return None
    account = session.get(PortalAccount, portal.account_id)
    return (portal, account.personal_id) if account is not None else None


def _log(request: Request, portal: PortalSession, personal_id: str, fields: tuple[str, ...], what: str) -> None:
    """The disclosure goes into the exchange log before the page or file leaves (else 503, nothing shown)."""
    entry = disclosure.entry(client_system=get_citizen_settings().portal_client_system, service=SERVICE,
                             result="answered", personal_id=personal_id, fields=fields,
                             end_user=f"portal-account:{portal.account_id}", request=what)
    disclosure.append_from_thread(request.app.state.ledger_writer, entry)


@router.get("/me", response_class=HTMLResponse)
def me(request: Request, session: DbSession) -> Response:
    who = _signed_in(session, request)
    record = views.record_of(session, who[1]) if who else None
    if who is None or record is None:
        return _go("/citizen/portal")
    _log(request, who[0], who[1], views.disclosed_fields(record), "view record")
    mine = corrections.list_requests(session, None, who[1])
    return _page(request, session, "record.html", who[0],
                 rows=views.rows(record, _lang(request), CatalogLookup.load(session)),
                 household=record.household, requests=mine, fields=[r.field for r in views.rows(record, "vi")],
                 notice=request.query_params.get("sent") and translator(_lang(request))["correction_sent"])


@router.get("/me/history", response_class=HTMLResponse)
def history(request: Request, session: DbSession) -> Response:
    who = _signed_in(session, request)
    if who is None:
        return _go("/citizen/portal")
    _log(request, who[0], who[1], ("access_history",), "view access history")
    return _page(request, session, "history.html", who[0], accesses=views.others(session, who[1]),
                 tz=disclosure_tz())


def disclosure_tz() -> Any:
    from dancu.citizen.sms.replies import VIETNAM

    return VIETNAM


@router.get("/me/record.json")
def download_json(request: Request, session: DbSession) -> Response:
    return _download(request, session, "json")


@router.get("/me/record.pdf")
def download_pdf(request: Request, session: DbSession) -> Response:
    return _download(request, session, "pdf")


def _download(request: Request, session: Session, kind: str) -> Response:
    who = _signed_in(session, request)
    record = views.record_of(session, who[1]) if who else None
    if who is None or record is None:
        return _go("/citizen/portal")
    _log(request, who[0], who[1], views.disclosed_fields(record), f"download {kind}")
    if kind == "json":
        body, media = views.as_json(record), "application/json"
    else:
        body = views.as_pdf(record, _lang(request), translator(_lang(request))["my_record"],
                            CatalogLookup.load(session))
        media = "application/pdf"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="thong-tin-dan-cu.{kind}"'})


@router.post("/me/corrections")
def correction(request: Request, session: DbSession, field: Text = "", requested_value: Annotated[
        str, Form(max_length=2000)] = "", reason: Annotated[str, Form(max_length=2000)] = "",
        csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    who = _signed_in(session, request) if portal else None
    record = views.record_of(session, who[1]) if who else None
    if who is None or record is None:
        return _go("/citizen/portal")
    try:
        corrections.file_request(session, who[1], record.resident.fields, field, requested_value, reason)
    except DancuError:
        return _go("/citizen/portal/me")
    return _go("/citizen/portal/me?sent=1")
