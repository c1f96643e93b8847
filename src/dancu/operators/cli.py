"""``dancu operators …``: operator accounts and tokens, run on the server by a trusted local administrator.

Each command is one transaction.  The actor recorded is ``cli:<os user>``.  A new token is printed alone on
standard output (for scripts) and never again; everything else goes to standard error.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from dancu.db import get_database
from dancu.errors import ValidationFailed, field_error
from dancu.operators import domain, repository, service
from dancu.operators.schemas import OperatorView, TokenView

app = typer.Typer(help="Cán bộ — operator accounts, roles and API tokens.", no_args_is_help=True)
err = Console(stderr=True)
Roles = Annotated[list[str], typer.Option("--role", "-r", help=f"Role (repeatable): {', '.join(domain.Role)}.")]
Days = Annotated[int | None, typer.Option("--days", help="Token lifetime in days (default 30).")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def _context() -> Iterator[service.Context]:
    with get_database().sessions.begin() as session:
        yield service.Context(session, _actor(), service.utcnow())


def _roles(values: list[str]) -> frozenset[domain.Role]:
    try:
        return domain.parse_roles(values)
    except ValueError as error:
        raise ValidationFailed([field_error("role", "unknown_role", f"Vai trò không tồn tại: {error}.",
                                            f"Unknown role: {error}.")]) from None


def _issue(ctx: service.Context, username: str, days: int | None, note: str | None) -> None:
    row, token = service.issue_token(ctx, username, days, note)
    err.print(f"token {row.token_id} for {username}, expires {row.expires_at:%Y-%m-%d %H:%M} UTC — "
              "shown once, store it now:")
    typer.echo(token)


@app.command()
def add(
    username: str,
    roles: Roles,
    full_name: Annotated[str, typer.Option("--name", help="Full name (họ tên).")],
    unit: Annotated[str, typer.Option("--unit", help="Unit (đơn vị).")],
    token: Annotated[bool, typer.Option("--token/--no-token", help="Issue a first token too.")] = True,
    days: Days = None,
) -> None:
    """Create an operator account with its roles (and, by default, a first token)."""
    with _context() as ctx:
        service.add(ctx, username, full_name, unit, _roles(roles))
        err.print(f"operator {username} created with roles {', '.join(sorted(roles))}")
        if token:
            _issue(ctx, username, days, "issued with the account")


@app.command("token")
def issue(username: str, days: Days = None,
          note: Annotated[str | None, typer.Option("--note", help="What the token is for.")] = None) -> None:
    """Issue a new token to an operator (printed once)."""
    with _context() as ctx:
        _issue(ctx, username, days, note)


@app.command()
def revoke(username: str, token_id: Annotated[int | None, typer.Argument(help="Token id; omit with --all.")] = None,
           every: Annotated[bool, typer.Option("--all", help="Revoke every live token of USERNAME.")] = False) -> None:
    """Revoke one token (or all of an operator's): refused from the very next request."""
    with _context() as ctx:
        if every:
            count = service.revoke_all(ctx, username)
            err.print(f"{count} token(s) of {username} revoked")
        elif token_id is None:
            raise typer.BadParameter("give a TOKEN_ID or --all")
        else:
            service.revoke_token(ctx, username, token_id)
            err.print(f"token {token_id} of {username} revoked")


@app.command()
def disable(username: str) -> None:
    """Disable an account and revoke all its tokens."""
    with _context() as ctx:
        service.disable(ctx, username)
        err.print(f"operator {username} disabled; its tokens are revoked")


@app.command()
def enable(username: str) -> None:
    """Enable a disabled account (issue it a new token: the old ones stay revoked)."""
    with _context() as ctx:
        service.enable(ctx, username)
        err.print(f"operator {username} enabled")


@app.command()
def roles(username: str, values: Roles) -> None:
    """Replace the roles of an operator."""
    with _context() as ctx:
        service.set_roles(ctx, username, _roles(values))
        err.print(f"operator {username} now has roles {', '.join(sorted(values)) or '(none)'}")


@app.command("list")
def list_operators() -> None:
    """Every account, its roles and tokens (never the tokens themselves), as JSON."""
    with _context() as ctx:
        views = []
        for operator in repository.list_operators(ctx.session):
            view = OperatorView.model_validate(operator)
            view.tokens = [TokenView.model_validate(t) for t in repository.tokens_of(ctx.session, operator.operator_id)]
            views.append(view.model_dump(mode="json"))
    typer.echo(json.dumps(views, ensure_ascii=False, indent=2))
