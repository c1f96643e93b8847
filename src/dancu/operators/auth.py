"""The guard on every operator route: ``RequireRole("connections")`` authenticates the bearer operator token
on each request and checks the role.  (Connected systems use OAuth access tokens instead: agencies.auth.)

Usage in a routes module::

    Actor = Annotated[str, RequireRole("connections")]          # the handler gets the operator's username
    Inspector = Annotated[AuthenticatedOperator, RequireOperator("inspector")]   # or the whole operator
"""

# No ``from __future__ import annotations``: FastAPI must see the real annotation of the closure in RequireRole.

from typing import Annotated, Any

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dancu.kit.http import DbSession
from dancu.operators import service
from dancu.operators.domain import Role, missing_roles
from dancu.operators.errors import OperatorUnauthenticated, RoleRequired
from dancu.operators.service import AuthenticatedOperator

SCHEME_NAME = "OperatorToken"
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME_NAME,
    bearerFormat="dco_<64 hex><8 hex CRC-32>",
    description="Mã truy cập của cán bộ — operator API token, issued by `dancu operators token USER` or by an "
    "operator with the admin role (POST /operators/{username}/tokens).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class OperatorGuard:
    """A dependency that yields the authenticated operator holding one of ``roles`` (any of them)."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    def __call__(self, session: DbSession, credentials: Credentials) -> AuthenticatedOperator:
        if credentials is None:
            raise OperatorUnauthenticated()
        operator = service.authenticate(session, credentials.credentials.strip(), service.utcnow())
        if self.roles and missing_roles(operator.roles, self.roles):
            raise RoleRequired(operator.username, sorted(self.roles))
        return operator

    def __repr__(self) -> str:
        return f"OperatorGuard({sorted(self.roles)})"


def _guard(roles: tuple[str, ...]) -> OperatorGuard:
    return OperatorGuard(frozenset(Role(r) for r in roles))


def RequireOperator(*roles: str) -> Any:
    """``Depends`` that yields the :class:`AuthenticatedOperator`; no roles = any active operator.

    ``Security(..., scopes=roles)`` puts the roles in the operation's security requirement, which OpenAPI 3.1
    allows for non-OAuth schemes ("role names required for the execution"); openapi.py documents 401/403 from it.
    """
    return Security(_guard(roles), scopes=sorted(roles))


def RequireRole(*roles: str) -> Any:
    """``Depends`` that yields the operator's username — what services record as the actor."""
    guard = _guard(roles)

    def username(operator: Annotated[AuthenticatedOperator, Security(guard, scopes=sorted(roles))]) -> str:
        return operator.username

    return Depends(username)
