"""``/citizen/portal/eid/...``: log in with an e-identification account (VNeID) by OpenID Connect.

``start`` is a plain link (a form posting here and then redirecting to the provider would be blocked by the
portal's CSP ``form-action 'self'``); login CSRF is prevented by ``state``, bound to the browser's session.
The callback URL carries only ``code`` and ``state``, nothing personal.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from dancu.citizen import disclosure
from dancu.citizen.clock import clock
from dancu.citizen.eid import oidc, service
from dancu.citizen.portal import sessions
from dancu.citizen.portal.i18n import translator
from dancu.citizen.portal.pages import SecureRoute, current, go, lang, page
from dancu.citizen.portal.routes import SERVICE
from dancu.citizen.settings import get_citizen_settings
from dancu.kit.http import DbSession

log = logging.getLogger(__name__)
router = APIRouter(prefix="/citizen/portal/eid", include_in_schema=False, route_class=SecureRoute)


def _failed(request: Request, session: DbSession, key: str, status: int = 400) -> Response:
    return page(request, session, "login.html", current(session, request), status=status,
                error=translator(lang(request))[key])


@router.get("/start")
def start(request: Request, session: DbSession) -> Response:
    settings = get_citizen_settings()
    if not settings.oidc_enabled:
        return go("/citizen/portal")
    try:
        pending = oidc.client_for(settings).begin()
    except Exception as error:  # the provider's discovery is down or wrong: say so, do not 500
        log.warning("e-ID provider unavailable: %s", type(error).__name__)
        return _failed(request, session, "eid_unavailable", 503)
    response = RedirectResponse(pending.url, status_code=303)
    portal = sessions.start(session, settings, response, previous=current(session, request), now=clock(request)())
    service.begin(portal, pending)
    return response


@router.get("/callback")
def callback(request: Request, session: DbSession, code: str = "", state: str = "", error: str = "") -> Response:
    settings = get_citizen_settings()
    portal = current(session, request)
    secrets = service.take_pending(portal, state[:200])
    if not settings.oidc_enabled or portal is None or secrets is None:
        return _failed(request, session, "eid_failed")
    if error or not code:
        return _failed(request, session, "eid_cancelled")
    try:
        identity = oidc.client_for(settings).finish(code[:2000], secrets[1], secrets[0], clock(request))
    except oidc.OidcError as failure:
        log.warning("e-ID login refused: %s", failure)  # reasons name claims, never their values
        return _failed(request, session, "eid_failed")
    if not service.sign_in(session, portal, identity, clock(request)()):
        # nothing is disclosed; the attempt is still logged, as a refused look-up is on the SMS channel
        entry = disclosure.entry(client_system=settings.portal_client_system, service=SERVICE, result="refused",
                                 personal_id=identity.personal_id, end_user=f"eid:{identity.issuer}#{identity.subject}",
                                 request=f"e-ID login (level {identity.level})", error_code="not_in_registry")
        disclosure.append_from_thread(request.app.state.ledger_writer, entry)
        return page(request, session, "eid_unknown.html", portal, status=404)
    response = go("/citizen/portal/me")
    sessions.start(session, settings, response, previous=portal, now=clock(request)())
    return response
