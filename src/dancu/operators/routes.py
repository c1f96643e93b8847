"""Operator accounts over HTTP: ``/operators/me`` for any operator; the rest for the ``admin`` role only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy.orm import Session

from dancu.kit.http import DbSession
from dancu.operators import repository, service
from dancu.operators.auth import RequireOperator, RequireRole
from dancu.operators.domain import USERNAME_PATTERN
from dancu.operators.models import Operator
from dancu.operators.schemas import IssuedToken, MeView, OperatorCreate, OperatorView, RolesBody, TokenCreate, TokenView
from dancu.operators.service import AuthenticatedOperator

router = APIRouter(prefix="/operators", tags=["operators"])
Admin = Annotated[str, RequireRole("admin")]
Username = Annotated[str, Path(pattern=USERNAME_PATTERN, description="Tên đăng nhập của cán bộ")]
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]
NO_STORE = {"Cache-Control": "no-store"}


def _ctx(session: Session, actor: str) -> service.Context:
    return service.Context(session, actor, service.utcnow())


def _view(session: Session, operator: Operator) -> OperatorView:
    view = OperatorView.model_validate(operator)
    view.tokens = [TokenView.model_validate(t) for t in repository.tokens_of(session, operator.operator_id)]
    return view


@router.get("/me", response_model=MeView, summary="The operator this token stands for, and its roles")
def me(operator: Annotated[AuthenticatedOperator, RequireOperator()]) -> MeView:
    return MeView(username=operator.username, full_name=operator.full_name, unit=operator.unit,
                  roles=sorted(operator.roles), token_id=operator.token_id, token_expires_at=operator.token_expires_at)


@router.get("", response_model=list[OperatorView], summary="Every operator account (cán bộ) and its tokens")
def list_operators(session: DbSession, actor: Admin) -> list[OperatorView]:
    return [_view(session, operator) for operator in repository.list_operators(session)]


@router.post("", status_code=201, response_model=OperatorView, summary="Create an operator account",
             responses={409: {"description": "Username taken"}})
def create_operator(body: OperatorCreate, session: DbSession, actor: Admin) -> OperatorView:
    operator = service.add(_ctx(session, actor), body.username, body.full_name, body.unit, frozenset(body.roles))
    return _view(session, operator)


@router.get("/{username}", response_model=OperatorView, summary="One operator account and its tokens",
            responses={404: {"description": "No such operator"}})
def get_operator(username: Username, session: DbSession, actor: Admin) -> OperatorView:
    return _view(session, service.get(session, username))


@router.put("/{username}/roles", response_model=OperatorView, summary="Replace the roles of an operator",
            responses={404: {"description": "No such operator"}, 409: {"description": "Own admin role"}})
def set_roles(username: Username, body: RolesBody, session: DbSession, actor: Admin) -> OperatorView:
    return _view(session, service.set_roles(_ctx(session, actor), username, frozenset(body.roles)))


@router.post("/{username}/disable", response_model=OperatorView,
             summary="Disable an account; every token it has is revoked at once",
             responses={404: {"description": "No such operator"}, 409: {"description": "Own account"}})
def disable(username: Username, session: DbSession, actor: Admin) -> OperatorView:
    return _view(session, service.disable(_ctx(session, actor), username))


@router.post("/{username}/enable", response_model=OperatorView,
             summary="Enable a disabled account (its old tokens stay revoked)",
             responses={404: {"description": "No such operator"}})
def enable(username: Username, session: DbSession, actor: Admin) -> OperatorView:
    return _view(session, service.enable(_ctx(session, actor), username))


@router.post("/{username}/tokens", status_code=201, response_model=IssuedToken,
             summary="Issue a token; the answer is the only place it is ever shown",
             responses={404: {"description": "No such operator"}, 409: {"description": "Operator disabled"}})
def issue_token(username: Username, body: TokenCreate, session: DbSession, actor: Admin,
                response: Response) -> IssuedToken:
    row, token = service.issue_token(_ctx(session, actor), username, body.days, body.note)
    response.headers.update(NO_STORE)
    return IssuedToken(token=token, details=TokenView.model_validate(row))


@router.delete("/{username}/tokens/{token_id}", status_code=204,
               summary="Revoke a token — refused from the very next request",
               responses={404: {"description": "No such operator or token"}})
def revoke_token(username: Username, token_id: TokenId, session: DbSession, actor: Admin) -> Response:
    service.revoke_token(_ctx(session, actor), username, token_id)
    return Response(status_code=204)
