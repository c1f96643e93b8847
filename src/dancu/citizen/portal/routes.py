"""Portal pages (HTML forms, not part of the JSON API: include_in_schema=False).

Every form carries the session's CSRF synchroniser token; every response carries the security headers;
nothing personal goes into a URL (IDs travel in POST bodies and the server-side session only). What a
signed-in citizen sees depends on the session's assurance level (see :mod:`.levels`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from dancu.catalogs.service import CatalogLookup
from dancu.citizen import disclosure
from dancu.citizen.clock import VIETNAM, clock
from dancu.citizen.corrections import service as corrections
from dancu.citizen.models import PortalSession
from dancu.citizen.portal import accounts, levels, sessions, views
from dancu.citizen.portal.accounts import PortalError
from dancu.citizen.portal.i18n import translator
from dancu.citizen.portal.levels import Action
from dancu.citizen.portal.pages import HERE, SecureRoute, Viewer, current, go, lang, page, viewer
from dancu.citizen.providers import SmsProvider, for_settings
from dancu.citizen.settings import get_citizen_settings
from dancu.errors import DancuError
from dancu.kit.http import DbSession

SERVICE = "citizen_portal"
router = APIRouter(prefix="/citizen/portal", include_in_schema=False, route_class=SecureRoute)
Text = Annotated[str, Form(max_length=200)]


def _provider(request: Request) -> SmsProvider:
    """``app.state.sms_provider`` when set (embedding), else the one DANCU_CITIZEN_SMS_DELIVERY names."""
    provider: SmsProvider | None = getattr(request.app.state, "sms_provider", None)
    return provider or for_settings(get_citizen_settings())


def _guard(session: Session, request: Request, csrf: str) -> PortalSession | None:
    portal = current(session, request)
    return portal if sessions.csrf_ok(portal, csrf) else None


@router.get("/static/portal.css")
def stylesheet() -> Response:
    return Response((HERE / "static" / "portal.css").read_bytes(), media_type="text/css")


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> Response:
    portal = current(session, request)
    if portal is not None and portal.stage == "signed_in":
        return go("/citizen/portal/me")
    return page(request, session, "login.html", portal)


def _form_error(request: Request, session: Session, template: str, portal: PortalSession | None,
                error: PortalError) -> HTMLResponse:
    message = translator(lang(request))[error.key].format(seconds=error.seconds)
    status = 429 if error.key in ("locked", "too_many_codes") else 400
    return page(request, session, template, portal, status=status, error=message)


@router.post("/login")
def login(request: Request, session: DbSession, personal_id: Text = "", password: Annotated[str, Form()] = "",
          csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "login.html", None, PortalError("csrf"))
    try:
        accounts.login(session, _provider(request), get_citizen_settings(), portal, personal_id, password[:1024],
                       clock(request))
    except PortalError as error:
        return _form_error(request, session, "login.html", portal, error)
    return go("/citizen/portal/code")


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, session: DbSession) -> Response:
    return page(request, session, "register.html", current(session, request))


@router.post("/register")
def register(request: Request, session: DbSession, personal_id: Text = "", full_name: Text = "",
             date_of_birth: Text = "", phone: Text = "", csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "register.html", None, PortalError("csrf"))
    try:
        accounts.register(session, _provider(request), get_citizen_settings(), portal, personal_id, full_name,
                          date_of_birth, phone, clock(request))
    except PortalError as error:
        return _form_error(request, session, "register.html", portal, error)
    return go("/citizen/portal/code")


@router.get("/recover", response_class=HTMLResponse)
def recover_page(request: Request, session: DbSession) -> Response:
    return page(request, session, "recover.html", current(session, request))


@router.post("/recover")
def recover(request: Request, session: DbSession, personal_id: Text = "", phone: Text = "",
            csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "recover.html", None, PortalError("csrf"))
    accounts.recover(session, _provider(request), get_citizen_settings(), portal, personal_id, phone, clock(request))
    return go("/citizen/portal/code")


@router.get("/code", response_class=HTMLResponse)
def code_page(request: Request, session: DbSession) -> Response:
    portal = current(session, request)
    if portal is None or portal.stage != "code":
        return go("/citizen/portal")
    return page(request, session, "code.html", portal, recovering=portal.purpose == "recover")


@router.post("/code")
def code(request: Request, session: DbSession, code: Annotated[str, Form(max_length=20)] = "",
         csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    if portal is None:
        return _form_error(request, session, "login.html", None, PortalError("csrf"))
    try:
        portal.stage = accounts.check_code(session, get_citizen_settings(), portal, code, clock(request))
    except PortalError as error:
        return _form_error(request, session, "code.html", portal, error)
    portal.access_level = levels.PORTAL_ACCOUNT_LEVEL if portal.stage == "signed_in" else None
    response = go("/citizen/portal/me" if portal.stage == "signed_in" else "/citizen/portal/password")
    sessions.start(session, get_citizen_settings(), response, previous=portal, now=clock(request)())
    return response


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, session: DbSession) -> Response:
    portal = current(session, request)
    if portal is None or portal.stage != "password":
        return go("/citizen/portal")
    return page(request, session, "password.html", portal)


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
    portal.stage, portal.access_level = "signed_in", levels.PORTAL_ACCOUNT_LEVEL
    response = go("/citizen/portal/me")
    sessions.start(session, get_citizen_settings(), response, previous=portal, now=clock(request)())
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, csrf: Text = "") -> Response:
    portal = _guard(session, request, csrf)
    response = go("/citizen/portal")
    sessions.end(session, portal, response)
    return response


def _log(request: Request, who: Viewer, fields: tuple[str, ...], what: str) -> None:
    """The disclosure goes into the exchange log before the page or file leaves (else 503, nothing shown)."""
    entry = disclosure.entry(client_system=get_citizen_settings().portal_client_system, service=SERVICE,
                             result="answered", personal_id=who.personal_id, fields=fields, end_user=who.end_user,
                             request=f"{what} (level {who.level})")
    disclosure.append_from_thread(request.app.state.ledger_writer, entry)


def _allowed(request: Request, session: Session, action: Action) -> Viewer | Response:
    """The signed-in viewer if their level allows ``action``; else the page to answer with."""
    who = viewer(session, request)
    if who is None:
        return go("/citizen/portal")
    if not levels.allows(who.level, action):
        return page(request, session, "level.html", who.portal, status=403)
    return who


@router.get("/me", response_class=HTMLResponse)
def me(request: Request, session: DbSession) -> Response:
    who = _allowed(request, session, Action.VIEW_BASIC)
    record = views.record_of(session, who.personal_id) if isinstance(who, Viewer) else None
    if not isinstance(who, Viewer) or record is None:
        return who if isinstance(who, Response) else go("/citizen/portal")
    names = CatalogLookup.load(session)
    rows = views.rows(record, lang(request), names, level=who.level)
    _log(request, who, views.disclosed_fields(record, who.level), "view record")
    full = levels.allows(who.level, Action.VIEW_RECORD)
    mine = corrections.list_requests(session, None, who.personal_id) if full else []
    return page(request, session, "record.html", who.portal, rows=rows,
                household=record.household if levels.allows(who.level, Action.HOUSEHOLD) else None,
                relation=lambda code: views.described("relation_to_head", code, names) if code else "",
                requests=mine, fields=[r.field for r in rows],
                notice=request.query_params.get("sent") and translator(lang(request))["correction_sent"])


@router.get("/me/history", response_class=HTMLResponse)
def history(request: Request, session: DbSession) -> Response:
    who = _allowed(request, session, Action.HISTORY)
    if not isinstance(who, Viewer):
        return who
    _log(request, who, ("access_history",), "view access history")
    return page(request, session, "history.html", who.portal, accesses=views.others(session, who.personal_id),
                tz=VIETNAM)


@router.get("/me/record.json")
def download_json(request: Request, session: DbSession) -> Response:
    return _download(request, session, "json")


@router.get("/me/record.pdf")
def download_pdf(request: Request, session: DbSession) -> Response:
    return _download(request, session, "pdf")


def _download(request: Request, session: Session, kind: str) -> Response:
    who = _allowed(request, session, Action.DOWNLOAD)
    record = views.record_of(session, who.personal_id) if isinstance(who, Viewer) else None
    if not isinstance(who, Viewer) or record is None:
        return who if isinstance(who, Response) else go("/citizen/portal")
    _log(request, who, views.disclosed_fields(record, who.level), f"download {kind}")
    if kind == "json":
        body, media = views.as_json(record), "application/json"
    else:
        body = views.as_pdf(record, lang(request), translator(lang(request))["my_record"],
                            CatalogLookup.load(session))
        media = "application/pdf"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="thong-tin-dan-cu.{kind}"'})


@router.post("/me/corrections")
def correction(request: Request, session: DbSession, field: Text = "", requested_value: Annotated[
        str, Form(max_length=2000)] = "", reason: Annotated[str, Form(max_length=2000)] = "",
        csrf: Text = "") -> Response:
    if _guard(session, request, csrf) is None:
        return go("/citizen/portal")
    who = _allowed(request, session, Action.CORRECT)
    record = views.record_of(session, who.personal_id) if isinstance(who, Viewer) else None
    if not isinstance(who, Viewer) or record is None:
        return who if isinstance(who, Response) else go("/citizen/portal")
    try:
        corrections.file_request(session, who.personal_id, record.resident.fields, field, requested_value, reason)
    except DancuError:
        return go("/citizen/portal/me")
    return go("/citizen/portal/me?sent=1")
