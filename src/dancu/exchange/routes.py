"""``/exchange/v1/...`` (and the X-Road REST style ``/r1/{instance}/{class}/{code}/{subsystem}/{service}``):
the API connected systems call.  Each route: start the call (X-Road headers, request hash), authenticate,
parse, call one service function, send the bytes it returns (already durably logged)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from dancu.errors import DancuError, ValidationFailed
from dancu.exchange import enrichment, jobs, service
from dancu.exchange.calls import Call, Caller, start_call
from dancu.exchange.domain import encode_hash
from dancu.exchange.errors import PayloadTooLarge
from dancu.exchange.runtime import runtime_of
from dancu.exchange.schemas import (
    BatchRequest,
    BatchResponse,
    EnrichmentJob,
    EnrichmentPush,
    JobView,
    RetrieveRequest,
    RetrieveResponse,
    VerifyRequest,
    VerifyResponse,
)
from dancu.kit.http import _validation_errors, problem_response
from dancu.policy.domain import Service

SERVICE_OF = {"verify": Service.VERIFY, "retrieve": Service.RETRIEVE, "verify/batch": Service.BATCH_VERIFY,
              "verify/jobs": Service.BATCH_VERIFY, "enrichment": Service.ENRICHMENT_PUSH,
              "enrichmentPush": Service.ENRICHMENT_PUSH}
MAX_PUSH_BYTES = 8 * 1024 * 1024  # ≤ 10,000 records of a few hundred bytes each, with room to spare


def _service_of(path: str) -> str:
    for suffix, svc in sorted(SERVICE_OF.items(), key=lambda kv: -len(kv[0])):
        if path.rstrip("/").endswith(suffix) or f"/{suffix}/" in path:
            return svc.value
    return Service.BATCH_VERIFY.value


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

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        streamed = self.path_format.endswith("/verify/jobs") and "POST" in (self.methods or set())
        limit = MAX_PUSH_BYTES if self.path_format.endswith(("/enrichment", "/enrichmentPush")) else None

        async def handler(request: Request) -> Response:
            try:
                body = b"" if streamed or request.method == "GET" else await _body(request, limit)
            except ClientDisconnect:  # the caller left before sending its body: nothing to answer or log
                return Response(status_code=400)
            except PayloadTooLarge as error:  # refused before the body is parsed or the caller identified
                return _problem(error, request)
            call = start_call(request, _service_of(self.path_format), body)
            request.state.exchange_call = call
            try:
                response = await original(request)
            except DancuError as error:
                response = _problem(error, request)
            except RequestValidationError as exc:
                response = _problem(ValidationFailed(_validation_errors(exc)), request)
            _xroad_headers(response, getattr(request.state, "exchange_call", call))
            return response

        return handler


async def _body(request: Request, limit: int | None) -> bytes:
    """The request body, refused past ``limit`` bytes (declared or as it arrives)."""
    if limit is None:
        return await request.body()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    parts, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLarge(limit)
        parts.append(part)
    request._body = b"".join(parts)  # Starlette's cache of the body, which FastAPI then parses
    return request._body


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
    401: {"description": "invalid_token, credential_revoked"},
    403: {"description": "system_suspended, system_terminated, system_not_live, policy_denied, relay_not_allowed, "
                         "relayed_system_not_allowed"},
    422: {"description": "validation_failed"},
    429: {"description": "quota_exceeded, rate_limited (with Retry-After)"},
    503: {"description": "ledger_unavailable: the exchange could not be logged, nothing is disclosed"},
}
PATHS = {"verify": "/exchange/v1/verify", "retrieve": "/exchange/v1/retrieve", "batch": "/exchange/v1/verify/batch"}
XROAD = "/r1/{instance}/{member_class}/{member_code}/{subsystem}"


@router.post(PATHS["verify"], response_model=VerifyResponse, responses=ERRORS,
             summary="Verify a resident's identity: match yes/no per field, nothing disclosed")
@router.post(f"{XROAD}/verify", include_in_schema=False)
async def verify(request: Request, call: Caller, body: VerifyRequest) -> Response:
    return Response(await service.verify(runtime_of(request), call, body), media_type=JSON)


@router.post(PATHS["batch"], response_model=BatchResponse, responses=ERRORS,
             summary="Verify up to 1,000 residents in one request (each logged)")
@router.post(f"{XROAD}/verifyBatch", include_in_schema=False)
async def verify_batch(request: Request, call: Caller, body: BatchRequest) -> Response:
    return Response(await service.verify_batch(runtime_of(request), call, body), media_type=JSON)


@router.post(PATHS["retrieve"], response_model=RetrieveResponse,
             responses={**ERRORS, 404: {"description": "resident_not_found"}},
             summary="Retrieve the fields the policy allows, each with its source and last update")
@router.post(f"{XROAD}/retrieve", include_in_schema=False)
async def retrieve(request: Request, call: Caller, body: RetrieveRequest) -> Response:
    return Response(await service.retrieve(runtime_of(request), call, body), media_type=JSON)


router.add_api_route("/exchange/v1/verify/jobs", jobs.submit, methods=["POST"], status_code=202,
                     response_model=JobView, responses={**ERRORS, 415: {"description": "unsupported_media_type"}},
                     summary="Start a verify job: JSON Lines or CSV body, one claim per line",
                     openapi_extra=jobs.UPLOAD_OPENAPI)
router.add_api_route("/exchange/v1/verify/jobs/{job_id}", jobs.progress, methods=["GET"], response_model=JobView,
                     responses={**ERRORS, 404: {"description": "job_not_found"}}, summary="A verify job's progress")
router.add_api_route("/exchange/v1/verify/jobs/{job_id}/results", jobs.results, methods=["GET"],
                     responses={**ERRORS, 404: {"description": "job_not_found"},
                                200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                                      "description": "One JSON result per line, in line order"}},
                     response_class=Response, summary="A verify job's results so far, streamed (JSON Lines)")


@router.post(enrichment.PATH, response_model=EnrichmentJob,
             responses={**ERRORS, 202: {"model": EnrichmentJob, "description": "Another request is synchronising "
                                        "the same batch: follow Location"},
                        404: {"description": "sync_source_unknown"},
                        413: {"description": "payload_too_large (8 MiB)"}},
             summary="Push a batch of sector records (≤ 10,000) for a source the policy allows: synchronised "
                     "at once, idempotent")
@router.post(f"{XROAD}/enrichmentPush", include_in_schema=False)
async def push_enrichment(request: Request, call: Caller, body: EnrichmentPush) -> Response:
    answer = await enrichment.push(runtime_of(request), request.app.state.database, call, body)
    return Response(answer.body, status_code=answer.status, media_type=JSON, headers={"Location": answer.location})


@router.get(f"{enrichment.PATH}/{{job_id}}", response_model=EnrichmentJob,
            responses={**ERRORS, 404: {"description": "job_not_found"}},
            summary="An enrichment push job's state and report (only for the system that pushed it)")
async def enrichment_job(request: Request, call: Caller, job_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
                         ) -> Response:
    return Response(await enrichment.job(runtime_of(request), call, job_id), media_type=JSON)
