"""Make the OpenAPI document say, on every guarded operation, the 401 and 403 it can answer and the roles."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from dancu.errors import PROBLEM_CONTENT_TYPE
from dancu.operators.auth import SCHEME_NAME

_PROBLEM = {"content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def required_roles(operation: dict[str, Any]) -> list[str] | None:
    """The roles an operation accepts (empty = any operator), or None when it takes no operator token."""
    for requirement in operation.get("security", []):
        if SCHEME_NAME in requirement:
            return list(requirement[SCHEME_NAME])
    return None


def document_operator_auth(document: dict[str, Any]) -> None:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            roles = required_roles(operation)
            if roles is None:
                continue
            named = " | ".join(roles) or "any active operator"
            responses = operation.setdefault("responses", {})
            responses["401"] = _PROBLEM | {"description": "No valid operator token (WWW-Authenticate: Bearer)"}
            if roles:
                responses["403"] = _PROBLEM | {"description": f"The operator lacks the role: {named}"}
            operation["description"] = (operation.get("description", "") + f"\n\n**Operator role:** {named}").strip()


def install_operator_openapi(app: FastAPI) -> None:
    """Wrap ``app.openapi`` (after the problem+json documentation is installed)."""
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = base_openapi()
        document_operator_auth(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
