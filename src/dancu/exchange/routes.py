"""``/exchange/v1/...`` (and the X-Road REST style ``/r1/{instance}/{class}/{code}/{subsystem}/{service}``,
where the four parts name this deployment as the service provider): the API connected systems call.  Each
route: read the body (capped: :data:`BODY_LIMITS`), start the call (X-Road headers, request hash),
authenticate, parse, call one service function, send the bytes it returns (already durably logged)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from dancu.errors import DancuError, ValidationFailed
from dancu.exchange import enrichment, jobs, sandbox, service
from dancu.exchange.calls import Call, Caller, start_call
from dancu.exchange.domain import encode_hash
from dancu.exchange.errors import XRoadServiceUnknown
from dancu.exchange.runtime import runtime_of
from dancu.exchange.schemas import (
    BatchRequest,
    BatchResponse,
    EnrichmentJob,
    EnrichmentPush,
    JobView,
    RetrieveRequest,
    RetrieveResponse,
    SandboxResidents,
    VerifyRequest,
    VerifyResponse,
)
from dancu.exchange.settings import get_exchange_settings
from dancu.kit.http import _validation_errors, http_error, problem_response
from dancu.policy.domain import Service

SERVICE_OF = {"verify": Service.VERIFY, "retrieve": Service.RETRIEVE, "verify/batch": Service.BATCH_VERIFY,
              "verify/jobs": Service.BATCH_VERIFY, "enrichment": Service.ENRICHMENT_PUSH,
              "enrichmentPush": Service.ENRICHMENT_PUSH}
MiB = 1024 * 1024
MAX_PUSH_BYTES = 8 * MiB  # ≤ 10,000 records of a few hundred bytes each, with room to spare
# The largest body each POST accepts, by how its path ends; refused past it with 413 payload_too_large before it
# is parsed or its sender authenticated (dancu.kit.http.BodyLimitMiddleware).  A verify or retrieve body is well
# under 2 KiB; a batch of 1,000 ordinary claims about 200 KiB (1,000 of the longest ones 1.2 MiB, escaped more);
# a verify job is streamed into the staging table, never held (DANCU_MAX_JOB_UPLOAD_BYTES).
BODY_LIMITS: dict[str, int] = {"verify": MiB, "retrieve": MiB, "verify/batch": 4 * MiB, "verifyBatch": 4 * MiB,
                               "enrichment": MAX_PUSH_BYTES, "enrichmentPush": MAX_PUSH_BYTES,
                               "verify/jobs": get_exchange_settings().max_job_upload_bytes}
XROAD_PARTS = ("instance", "member_class", "member_code", "subsystem")


def _service_of(path: str) -> str:
    if path.endswith("/sandbox/residents"):
        return sandbox.SERVICE
    for suffix, svc in sorted(SERVICE_OF.items(), key=lambda kv: -len(kv[0])):
        if path.rstrip("/").endswith(suffix) or f"/{suffix}/" in path:
            return svc.value
    return Service.BATCH_VERIFY.value


def body_limit_of(path: str, methods: set[str] | None) -> int | None:
    """The body limit of a POST by how its path ends (longest suffix first); ``None``: the app's default."""
    if "POST" not in (methods or set()):
        return None
    for suffix, limit in sorted(BODY_LIMITS.items(), key=lambda kv: -len(kv[0])):
        if path.endswith("/" + suffix):
            return limit
    return None


def _check_provider(request: Request) -> None:
    """An X-Road path names the service provider: it must be this deployment (DANCU_XROAD_PROVIDER)."""
    provider = get_exchange_settings().xroad_provider
    named = "/".join(str(request.path_params.get(part, "")) for part in XROAD_PARTS)
    if named != provider:
        raise XRoadServiceUnknown(named, provider)


def _xroad_headers(response: Response, call: Call | None) -> None:
    if call is None:
        return
    response.headers["X-Road-Id"] = call.correlation_id
    response.headers["X-Road-Request-Hash"] = encode_hash(call.request_hash)
    if call.xroad_client:
        response.headers["X-Road-Client"] = call.xroad_client
    if call.end_user:
        response.headers["X-Road-UserId"] = call.end_user


class ExchangeRoute(APIRoute):
    """Adds the X-Road response headers to every answer, success or problem, and X-Road-Error on failure."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.body_limit = body_limit_of(self.path_format, self.methods)  # read by BodyLimitMiddleware

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        streamed = self.path_format.endswith("/verify/jobs") and "POST" in (self.methods or set())
        provider_path = self.path_format.startswith("/r1/")

        async def handler(request: Request) -> Response:
            try:
                if provider_path:
                    _check_provider(request)
                body = b"" if streamed or request.method == "GET" else await request.body()
            except ClientDisconnect:  # the caller left before sending its body: nothing to answer or log
                return Response(status_code=400)
            except DancuError as error:  # another provider's path: nothing read, no one identified
                return _problem(error, request)
            except StarletteHTTPException as exc:  # over its limit: refused before it is parsed or the caller known
                return _problem(http_error(exc), request)
            call = start_call(request, _service_of(self.path_format), body)
            request.state.exchange_call = call
            try:
                response = await original(request)
            except DancuError as error:
                response = _problem(error, request)
            except RequestValidationError as exc:
                response = _problem(ValidationFailed(_validation_errors(exc)), request)
            except StarletteHTTPException as exc:  # not UTF-8; a streamed job body over its limit
                response = _problem(http_error(exc), request)
            _xroad_headers(response, getattr(request.state, "exchange_call", call))
            return response

        return handler


def problem_with_headers(error: DancuError, request: Request, call: Call | None) -> Response:
    """The problem answer for ``error`` with the X-Road headers of ``call`` (also used by the lean path)."""
    response = _problem(error, request)
    _xroad_headers(response, call)
    return response


def _problem(error: DancuError, request: Request) -> Response:
    response = problem_response(error, request)
    response.headers["X-Road-Error"] = error.code
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


router = APIRouter(tags=["exchange"], route_class=ExchangeRoute)
JSON = "application/json"
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "xroad_client_invalid (X-Road-Client is not INSTANCE/CLASS/CODE/SUBSYSTEM)"},
    401: {"description": "invalid_token, credential_revoked"},
    403: {"description": "system_suspended, system_terminated, system_not_live, policy_denied, relay_not_allowed, "
                         "relayed_system_not_allowed, direct_call_not_allowed, test_credentials_sandbox_only"},
    422: {"description": "validation_failed (also a body that is not UTF-8 or not JSON: field body)"},
    429: {"description": "quota_exceeded, rate_limited (with Retry-After)"},
    503: {"description": "ledger_unavailable: the exchange could not be logged, nothing is disclosed"},
}
XROAD = "/r1/{instance}/{member_class}/{member_code}/{subsystem}"
XROAD_HEADERS = [
    {"name": "X-Road-Client", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 300},
     "description": "INSTANCE/CLASS/CODE/SUBSYSTEM of the system the call is for: yours, or the one an approved "
                    "relaying platform relays for"},
    {"name": "X-Road-Id", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200},
     "description": "Correlation id (echoed; the log entry's); generated when absent"},
    {"name": "X-Road-UserId", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200},
     "description": "The end user the call acts for (required when the policy says so)"},
]


def _provider_parameters() -> list[dict[str, Any]]:
    provider = get_exchange_settings().xroad_provider
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "enum": [value]},
             "description": f"Service provider ({provider}): this deployment's X-Road identifier, part {name}"}
            for name, value in zip(XROAD_PARTS, provider.split("/"), strict=True)]


def _responses(limit: int | None, **more: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """ERRORS, plus what a body-carrying call adds (purpose_required, payload_too_large) and ``more``."""
    responses = dict(ERRORS)
    if limit is not None:
        responses[400] = {"description": "purpose_required, xroad_client_invalid"}
        responses[413] = {"description": f"payload_too_large: a body over {limit:,} bytes"}
    for status, value in more.items():
        responses[int(status.removeprefix("s"))] = value
    return responses


def _openapi(extra: dict[str, Any] | None = None, *, xroad_path: bool = False) -> dict[str, Any]:
    parameters = [*(_provider_parameters() if xroad_path else []), *XROAD_HEADERS]
    return {**(extra or {}), "parameters": parameters}


def _xroad_summary(path: str) -> str:
    return f"The same as POST {path}, in the X-Road REST path style (the path names this deployment)"


UNKNOWN_PROVIDER = {"description": "xroad_service_unknown: the path names another service provider"}
PATHS = {"verify": "/exchange/v1/verify", "retrieve": "/exchange/v1/retrieve", "batch": "/exchange/v1/verify/batch"}


@router.post(PATHS["verify"], response_model=VerifyResponse, responses=_responses(MiB), openapi_extra=_openapi(),
             summary="Verify a resident's identity: match yes/no per field, nothing disclosed")
@router.post(f"{XROAD}/verify", response_model=VerifyResponse, responses=_responses(MiB, s404=UNKNOWN_PROVIDER),
             openapi_extra=_openapi(xroad_path=True), summary=_xroad_summary(PATHS["verify"]),
             tags=["exchange (X-Road REST)"])
async def verify(request: Request, call: Caller, body: VerifyRequest) -> Response:
    return Response(await service.verify(runtime_of(request), call, body), media_type=JSON)


@router.post(PATHS["batch"], response_model=BatchResponse, responses=_responses(4 * MiB),
             openapi_extra=_openapi(), summary="Verify up to 1,000 residents in one request (each logged)")
@router.post(f"{XROAD}/verifyBatch", response_model=BatchResponse,
             responses=_responses(4 * MiB, s404=UNKNOWN_PROVIDER), openapi_extra=_openapi(xroad_path=True),
             summary=_xroad_summary(PATHS["batch"]), tags=["exchange (X-Road REST)"])
async def verify_batch(request: Request, call: Caller, body: BatchRequest) -> Response:
    return Response(await service.verify_batch(runtime_of(request), call, body), media_type=JSON)


RESIDENT_NOT_FOUND = {"description": "resident_not_found"}


@router.post(PATHS["retrieve"], response_model=RetrieveResponse, responses=_responses(MiB, s404=RESIDENT_NOT_FOUND),
             openapi_extra=_openapi(),
             summary="Retrieve the fields the policy allows, each with its source and last update")
@router.post(f"{XROAD}/retrieve", response_model=RetrieveResponse,
             responses=_responses(MiB, s404={"description": "resident_not_found, xroad_service_unknown"}),
             openapi_extra=_openapi(xroad_path=True), summary=_xroad_summary(PATHS["retrieve"]),
             tags=["exchange (X-Road REST)"])
async def retrieve(request: Request, call: Caller, body: RetrieveRequest) -> Response:
    return Response(await service.retrieve(runtime_of(request), call, body), media_type=JSON)


JOB_NOT_FOUND = {"description": "job_not_found"}
router.add_api_route("/exchange/v1/verify/jobs", jobs.submit, methods=["POST"], status_code=202,
                     response_model=JobView,
                     responses=_responses(BODY_LIMITS["verify/jobs"], s415={"description": "unsupported_media_type"},
                                          s422={"description": "job_input_invalid (line), validation_failed"}),
                     summary="Start a verify job: JSON Lines or CSV body, one claim per line",
                     openapi_extra=_openapi(jobs.UPLOAD_OPENAPI))
router.add_api_route("/exchange/v1/verify/jobs/{job_id}", jobs.progress, methods=["GET"], response_model=JobView,
                     responses=_responses(None, s404=JOB_NOT_FOUND), openapi_extra=_openapi(),
                     summary="A verify job's progress")
router.add_api_route("/exchange/v1/verify/jobs/{job_id}/results", jobs.results, methods=["GET"],
                     responses=_responses(None, s404=JOB_NOT_FOUND,
                                          s200={"content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                                                "description": "One JSON result per line, in line order"}),
                     response_class=Response, openapi_extra=_openapi(),
                     summary="A verify job's results so far, streamed (JSON Lines)")

PUSH_RESPONSES: dict[str, dict[str, Any]] = {
    "s202": {"model": EnrichmentJob, "description": "Another request is synchronising the same batch: follow Location"},
    "s404": {"description": "sync_source_unknown"}}


@router.post(enrichment.PATH, response_model=EnrichmentJob, responses=_responses(MAX_PUSH_BYTES, **PUSH_RESPONSES),
             openapi_extra=_openapi(),
             summary="Push a batch of sector records (≤ 10,000) for a source the policy allows: synchronised "
                     "at once, idempotent")
@router.post(f"{XROAD}/enrichmentPush", response_model=EnrichmentJob,
             responses=_responses(MAX_PUSH_BYTES, **PUSH_RESPONSES
                                  | {"s404": {"description": "sync_source_unknown, xroad_service_unknown"}}),
             openapi_extra=_openapi(xroad_path=True), summary=_xroad_summary(enrichment.PATH),
             tags=["exchange (X-Road REST)"])
async def push_enrichment(request: Request, call: Caller, body: EnrichmentPush) -> Response:
    answer = await enrichment.push(runtime_of(request), request.app.state.database, call, body)
    return Response(answer.body, status_code=answer.status, media_type=JSON, headers={"Location": answer.location})


@router.get(f"{enrichment.PATH}/{{job_id}}", response_model=EnrichmentJob,
            responses=_responses(None, s404=JOB_NOT_FOUND), openapi_extra=_openapi(),
            summary="An enrichment push job's state and report (only for the system that pushed it)")
async def enrichment_job(request: Request, call: Caller, job_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
                         ) -> Response:
    return Response(await enrichment.job(runtime_of(request), call, job_id), media_type=JSON)


@router.get("/exchange/v1/sandbox/residents", response_model=SandboxResidents,
            responses=_responses(None, s403={"description": "test_credentials_required (a production credential), "
                                                            "and the refusals of every call"}),
            openapi_extra=_openapi(),
            summary="The sandbox's synthetic residents (no real person), to test against with test credentials")
async def sandbox_residents(request: Request, call: Caller,
                            after: Annotated[int, Query(ge=0, le=2**63 - 1,
                                                        description="Cursor of the last resident read")] = 0,
                            limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Response:
    return Response(await sandbox.residents(runtime_of(request), call, after, limit), media_type=JSON)
