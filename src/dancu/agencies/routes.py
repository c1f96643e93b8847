"""Operators' HTTP API for connected systems (the database manager), and ``GET /agencies/me`` for systems.

Every operator route is guarded by an operator token (dancu.operators.auth): ``connections`` to act,
``connections`` or ``inspector`` to read; every step, status change and focal-point change records the operator's
username.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from dancu.agencies import credentials, focal_points, queries, sandbox, service
from dancu.agencies.auth import CurrentSystem
from dancu.agencies.schemas import (
    CredentialCreate,
    CredentialView,
    FocalPointCreate,
    FocalPointUpdate,
    FocalPointView,
    MeView,
    OnboardingCreate,
    OnboardingView,
    OrganisationView,
    ReasonBody,
    SandboxLoadBody,
    SandboxView,
    StepBody,
    SuspendBody,
    SystemView,
    WithdrawBody,
)
from dancu.agencies.tokens import utcnow
from dancu.errors import PROBLEM_CONTENT_TYPE
from dancu.kit.http import DbSession
from dancu.operators.auth import RequireRole
from dancu.policy import service as policy

router = APIRouter(prefix="/agencies", tags=["agencies"])

# scope="function": the transaction commits before the response leaves, so a 2xx means it is stored.
Actor = Annotated[str, RequireRole("connections")]  # the authenticated operator's username
Reader = Annotated[str, RequireRole("connections", "inspector")]
Identifier = Annotated[str, Path(max_length=300, description="INSTANCE/CLASS/CODE/SUBSYSTEM")]
Member = Annotated[str, Path(max_length=300, description="INSTANCE/CLASS/CODE — the organisation (member)")]
FocalPointId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Số cán bộ đầu mối — focal point id")]
RequestId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Số hồ sơ kết nối — onboarding request")]
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_CONTENT_TYPE: {}}, "description": "Problem details (RFC 9457)"}
ERRORS: dict[int | str, dict[str, Any]] = {s: _PROBLEM for s in (401, 403, 404, 409, 422)}


def _ctx(session: Session, actor: str) -> service.Context:
    return service.Context(session, actor, utcnow())


@router.get("/me", response_model=MeView, responses=ERRORS, summary="The calling system, as its token shows it")
def me(system: CurrentSystem) -> MeView:
    return MeView(system=system.identifier, status=system.status.value, credential_kind=system.credential_kind.value)


@router.post("/onboarding", status_code=201, response_model=OnboardingView, responses=ERRORS,
             summary="Step 1: record a request letter (văn bản đề nghị kết nối)")
def start_onboarding(body: OnboardingCreate, session: DbSession, actor: Actor) -> OnboardingView:
    request = service.start(_ctx(session, actor), body)
    return queries.onboarding_view(session, request.request_id)


@router.get("/onboarding/{request_id}", response_model=OnboardingView, responses=ERRORS,
            summary="An onboarding request and every recorded step")
def get_onboarding(request_id: RequestId, session: DbSession, reader: Reader) -> OnboardingView:
    return queries.onboarding_view(session, request_id)


@router.post("/onboarding/{request_id}/steps/{number}", response_model=OnboardingView, responses=ERRORS,
             summary="Record step 2–10 (each once, in order)")
def record_step(request_id: RequestId, number: Annotated[int, Path(ge=1, le=10)], body: StepBody, session: DbSession,
                actor: Actor) -> OnboardingView:
    service.record_step(_ctx(session, actor), request_id, number, body)
    return queries.onboarding_view(session, request_id)


@router.get("/sandbox", response_model=SandboxView, responses=ERRORS,
            summary="The sandbox: how many synthetic residents test credentials reach, and every load")
async def get_sandbox(request: Request, reader: Reader) -> SandboxView:
    return SandboxView.model_validate(await run_in_threadpool(sandbox.summary, request.app.state.database))


@router.post("/sandbox", response_model=SandboxView, responses=ERRORS,
             summary="Load synthetic residents into the sandbox (at least N afterwards; resumable, idempotent)")
async def load_sandbox(body: SandboxLoadBody, request: Request, actor: Actor) -> SandboxView:
    database = request.app.state.database
    await run_in_threadpool(sandbox.load, database, body.residents, actor)
    return SandboxView.model_validate(await run_in_threadpool(sandbox.summary, database))


@router.post("/systems/{identifier:path}/suspend", response_model=SystemView, responses=ERRORS,
             summary="Suspend (tạm ngừng) — refused from the very next request")
def suspend(identifier: Identifier, body: SuspendBody, session: DbSession, actor: Actor) -> SystemView:
    ctx = _ctx(session, actor)
    return queries.system_view(session, service.suspend(ctx, identifier, body.reason, body.until), ctx.now)


@router.post("/systems/{identifier:path}/resume", response_model=SystemView, responses=ERRORS,
             summary="Resume a suspended system")
def resume(identifier: Identifier, body: ReasonBody, session: DbSession, actor: Actor) -> SystemView:
    ctx = _ctx(session, actor)
    return queries.system_view(session, service.resume(ctx, identifier, body.reason), ctx.now)


@router.post("/systems/{identifier:path}/terminate", response_model=SystemView, responses=ERRORS,
             summary="Terminate (chấm dứt): credentials revoked, policy ended, records kept")
def terminate(identifier: Identifier, body: ReasonBody, session: DbSession, actor: Actor) -> SystemView:
    ctx = _ctx(session, actor)
    return queries.system_view(session, service.terminate(ctx, identifier, body.reason), ctx.now)


@router.post("/systems/{identifier:path}/credentials", status_code=201, response_model=CredentialView,
             responses=ERRORS, summary="Add a key (rotation): several live keys per system, told apart by kid")
def add_credential(identifier: Identifier, body: CredentialCreate, session: DbSession, actor: Actor) -> CredentialView:
    system = service.get_system(session, identifier, lock=True)
    row = credentials.rotate(session, system, body.kind, body, actor)
    session.refresh(row)
    return CredentialView(kid=row.kid, kind=row.kind, method=row.method, created_at=row.created_at,
                          created_by=row.created_by, revoked_at=row.revoked_at)


@router.delete("/systems/{identifier:path}/credentials/{kid}", status_code=204, responses=ERRORS,
               summary="Revoke a key — tokens obtained with it fail on their next request")
def revoke_credential(identifier: Identifier, kid: str, session: DbSession, actor: Actor) -> Response:
    system = service.get_system(session, identifier, lock=True)
    credentials.revoke(session, system, kid, actor, utcnow())
    return Response(status_code=204)


@router.get("/systems/{identifier:path}/policy", responses=ERRORS,
            summary="Every policy version of a system: production ones (step 9 on), then test ones (step 7 on)")
def policy_versions(identifier: Identifier, session: DbSession, reader: Reader) -> list[dict[str, Any]]:
    system = service.get_system(session, identifier)
    return [
        {"environment": v.environment, "version": v.version, "services": v.services, "fields": v.fields,
         "purposes": v.purposes,
         "legal_bases": v.legal_bases, "daily_quota": v.daily_quota, "rate_per_second": v.rate_per_second,
         "must_name_end_user": v.must_name_end_user, "sources": v.sources, "valid_from": v.valid_from,
         "valid_to": v.valid_to,
         "created_by": v.created_by}
        for v in policy.history(session, system.system_id)
    ]


@router.get("/systems/{identifier:path}", response_model=SystemView, responses=ERRORS,
            summary="A system: status, connection model, credentials")
def get_system(identifier: Identifier, session: DbSession, reader: Reader) -> SystemView:
    return queries.system_view(session, service.get_system(session, identifier), utcnow())


@router.post("/organisations/{organisation:path}/focal-points", status_code=201, response_model=FocalPointView,
             responses=ERRORS, summary="Name another focal point (cán bộ đầu mối); public at once")
def add_focal_point(organisation: Member, body: FocalPointCreate, session: DbSession, actor: Actor) -> FocalPointView:
    return queries.focal_point_view(session, focal_points.add(_ctx(session, actor), organisation, body))


@router.patch("/organisations/{organisation:path}/focal-points/{focal_point_id}", response_model=FocalPointView,
              responses=ERRORS, summary="Change a focal point's position, function, phone or e-mail")
def update_focal_point(organisation: Member, focal_point_id: FocalPointId, body: FocalPointUpdate,
                       session: DbSession, actor: Actor) -> FocalPointView:
    point = focal_points.update(_ctx(session, actor), organisation, focal_point_id, body)
    return queries.focal_point_view(session, point)


@router.post("/organisations/{organisation:path}/focal-points/{focal_point_id}/withdraw",
             response_model=FocalPointView, responses=ERRORS,
             summary="Withdraw a focal point: gone from the directory, kept in the history; never the last one")
def withdraw_focal_point(organisation: Member, focal_point_id: FocalPointId, body: WithdrawBody,
                         session: DbSession, actor: Actor) -> FocalPointView:
    point = focal_points.withdraw(_ctx(session, actor), organisation, focal_point_id, body.reason)
    return queries.focal_point_view(session, point)


@router.get("/organisations/{organisation:path}", response_model=OrganisationView, responses=ERRORS,
            summary="An organisation: its systems, focal points and their history")
def get_organisation(organisation: Member, session: DbSession, reader: Reader) -> OrganisationView:
    ctx = _ctx(session, reader)
    return queries.organisation_view(session, focal_points.get_organisation(ctx, organisation), ctx.now)
