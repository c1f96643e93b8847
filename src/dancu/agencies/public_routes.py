"""Public endpoints: the OAuth token endpoint, the platform's signing keys, and the directory of
connected agencies (danh bạ kết nối) as JSON and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dancu.agencies import oauth, queries
from dancu.agencies.mtls import presented_thumbprint
from dancu.agencies.schemas import OAuthErrorBody, TokenResponse
from dancu.agencies.settings import get_agency_settings
from dancu.agencies.tokens import platform_key, utcnow
from dancu.kit.http import DbSession

router = APIRouter(tags=["public"])
# scope="function": the transaction commits before the response leaves, so a 2xx means it is stored.
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_BYTES = 16_384


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise oauth.OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise oauth.OAuthError("invalid_request", "request too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise oauth.OAuthError("invalid_request", "the body is not UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:  # RFC 6749 §3.2: parameters MUST NOT be included more than once
            raise oauth.OAuthError("invalid_request", f"parameter {key} repeated")
        form[key] = value
    return form


def _token_url(request: Request) -> str:
    configured = get_agency_settings().token_endpoint_url
    return configured or str(request.url.replace(query=None, fragment=None))


@router.post(
    "/oauth/token",
    summary="OAuth 2.0 token endpoint (client_credentials; private_key_jwt or client certificate)",
    description="Errors here follow RFC 6749 §5.2 (`{\"error\": ..., \"error_description\": ...}`), "
    "not problem+json; `dancu_code` adds our precise code where one exists.",
    response_model=None,
    responses={200: {"model": TokenResponse, "description": "An access token (RFC 6749 §5.1)"},
               400: {"model": OAuthErrorBody, "description": "OAuth error (RFC 6749 §5.2)"},
               401: {"model": OAuthErrorBody, "description": "Client authentication failed (invalid_client)"}},
    openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["grant_type"], "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "client_assertion_type": {"type": "string"}, "client_assertion": {"type": "string"},
            "client_id": {"type": "string"}}}}}}},
)
async def token(request: Request, session: DbSession) -> JSONResponse:
    settings = get_agency_settings()
    try:
        form = await _form(request)
        token_request = oauth.TokenRequest(form, _token_url(request), presented_thumbprint(request, settings),
                                           utcnow(), settings)
        body: dict[str, Any] = oauth.issue(session, token_request)
    except oauth.OAuthError as error:
        headers = {**NO_STORE, **({"WWW-Authenticate": "Bearer"} if error.status == 401 else {})}
        return JSONResponse(error.body(), status_code=error.status, headers=headers)
    return JSONResponse(body, headers=NO_STORE)


@router.get("/oauth/jwks.json", summary="Public keys that sign dancu access tokens")
def jwks() -> dict[str, list[dict[str, str]]]:
    return {"keys": [platform_key(get_agency_settings()).public_jwk()]}


@router.get("/directory", summary="Danh bạ kết nối — connected agencies, focal points, data-sharing readiness")
def directory(session: DbSession) -> dict[str, Any]:
    return {"agencies": queries.directory(session, utcnow())}


@router.get("/directory.html", response_class=HTMLResponse, summary="The directory as a web page (Vietnamese)")
def directory_page(session: DbSession) -> HTMLResponse:
    page = TEMPLATES.get_template("directory.html").render(agencies=queries.directory(session, utcnow()))
    return HTMLResponse(page)
