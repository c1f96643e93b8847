"""Rules of operator accounts and tokens.  Never commits: the request or the CLI command does."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dancu.errors import ValidationFailed, field_error
from dancu.operators import domain, repository
from dancu.operators.domain import Role
from dancu.operators.errors import (
    OperatorDisabled,
    OperatorExists,
    OperatorNotFound,
    OperatorUnauthenticated,
    SelfLockout,
    TokenNotFound,
)
from dancu.operators.models import Operator, OperatorToken
from dancu.operators.settings import get_operator_settings

log = logging.getLogger("dancu.operators")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """Who acts (an operator's username, or ``cli:<os user>`` on the server) and when."""

    session: Session
    actor: str
    now: datetime


@dataclass(frozen=True)
class AuthenticatedOperator:
    operator_id: int
    username: str
    full_name: str
    unit: str
    roles: frozenset[Role]
    token_id: int
    token_expires_at: datetime


def _check_username(username: str) -> None:
    if not re.match(domain.USERNAME_PATTERN, username):
        raise ValidationFailed([field_error("username", "invalid_username",
                                            "Tên đăng nhập chỉ gồm a-z, 0-9, '.', '_', '-' (2–50 ký tự).",
                                            "A username is 2–50 of a-z, 0-9, '.', '_', '-', starting with a letter.")])


def get(session: Session, username: str, lock: bool = False) -> Operator:
    operator = repository.get_by_username(session, username, lock)
    if operator is None:
        raise OperatorNotFound(username)
    return operator


def add(ctx: Context, username: str, full_name: str, unit: str, roles: frozenset[Role]) -> Operator:
    _check_username(username)
    if repository.get_by_username(ctx.session, username) is not None:
        raise OperatorExists(username)
    operator = Operator(username=username, full_name=full_name, unit=unit, roles=sorted(roles), active=True,
                        created_at=ctx.now, created_by=ctx.actor)
    ctx.session.add(operator)
    try:
        with ctx.session.begin_nested():
            ctx.session.flush()
    except IntegrityError:  # created by someone else between the check and the insert
        raise OperatorExists(username) from None
    repository.record_event(ctx.session, operator.operator_id, "created", ctx.actor, ctx.now, roles=sorted(roles))
    return operator


def set_roles(ctx: Context, username: str, roles: frozenset[Role]) -> Operator:
    operator = get(ctx.session, username, lock=True)
    if username == ctx.actor and Role.ADMIN not in roles:
        raise SelfLockout()
    before = sorted(operator.roles)
    operator.roles = sorted(roles)
    repository.record_event(ctx.session, operator.operator_id, "roles_changed", ctx.actor, ctx.now,
                            before=before, after=operator.roles)
    return operator


def disable(ctx: Context, username: str) -> Operator:
    """Disable an account and revoke every token it has: re-enabling it later revives none of them."""
    operator = get(ctx.session, username, lock=True)
    if username == ctx.actor:
        raise SelfLockout()
    if operator.active:
        operator.active, operator.disabled_at, operator.disabled_by = False, ctx.now, ctx.actor
        revoked = repository.revoke_live_tokens(ctx.session, operator.operator_id, ctx.now, ctx.actor)
        repository.record_event(ctx.session, operator.operator_id, "disabled", ctx.actor, ctx.now,
                                tokens_revoked=revoked)
    return operator


def enable(ctx: Context, username: str) -> Operator:
    operator = get(ctx.session, username, lock=True)
    if not operator.active:
        operator.active, operator.disabled_at, operator.disabled_by = True, None, None
        repository.record_event(ctx.session, operator.operator_id, "enabled", ctx.actor, ctx.now)
    return operator


def _lifetime(days: int | None) -> timedelta:
    settings = get_operator_settings()
    chosen = settings.token_days if days is None else days
    if not 1 <= chosen <= settings.max_token_days:
        raise ValidationFailed([field_error("days", "token_lifetime",
                                            f"Thời hạn mã truy cập từ 1 đến {settings.max_token_days} ngày.",
                                            f"A token lives from 1 to {settings.max_token_days} days.")])
    return timedelta(days=chosen)


def issue_token(ctx: Context, username: str, days: int | None = None, note: str | None = None
                ) -> tuple[OperatorToken, str]:
    """A new token for an active operator: the row (hash only) and the token, to be shown once."""
    operator = get(ctx.session, username, lock=True)
    if not operator.active:
        raise OperatorDisabled(username)
    token = domain.new_token()
    row = OperatorToken(operator_id=operator.operator_id, token_hash=domain.token_hash(token),
                        hint=domain.token_hint(token), note=note, created_at=ctx.now, created_by=ctx.actor,
                        expires_at=ctx.now + _lifetime(days))
    ctx.session.add(row)
    ctx.session.flush()
    repository.record_event(ctx.session, operator.operator_id, "token_issued", ctx.actor, ctx.now,
                            token_id=row.token_id, expires_at=row.expires_at.isoformat())
    return row, token


def revoke_token(ctx: Context, username: str, token_id: int) -> OperatorToken:
    operator = get(ctx.session, username)
    row = repository.get_token(ctx.session, operator.operator_id, token_id)
    if row is None:
        raise TokenNotFound(token_id)
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = ctx.now, ctx.actor
        repository.record_event(ctx.session, operator.operator_id, "token_revoked", ctx.actor, ctx.now,
                                token_id=token_id)
    return row


def revoke_all(ctx: Context, username: str) -> int:
    """Revoke every live token of an operator (a lost laptop); returns how many."""
    operator = get(ctx.session, username, lock=True)
    count = repository.revoke_live_tokens(ctx.session, operator.operator_id, ctx.now, ctx.actor)
    repository.record_event(ctx.session, operator.operator_id, "tokens_revoked", ctx.actor, ctx.now, count=count)
    return count


def _refuse(reason: str, token_id: int | None) -> OperatorUnauthenticated:
    log.warning("operator token refused", extra={"reason": reason, "token_id": token_id})  # never the token
    return OperatorUnauthenticated()


def authenticate(session: Session, token: str, now: datetime) -> AuthenticatedOperator:
    """The operator a token stands for, checked afresh on every request (revocation, expiry, disabling)."""
    if not domain.is_well_formed(token):
        raise _refuse("malformed_token", None)
    found = repository.token_with_operator(session, domain.token_hash(token))
    if found is None:
        raise _refuse("unknown_token", None)
    row, operator = found
    reason = domain.refusal(domain.TokenState(row.expires_at, row.revoked_at, operator.active), now)
    if reason is not None:
        raise _refuse(reason, row.token_id)
    if domain.should_touch(row.last_used_at, now):
        repository.touch_token(session, row.token_id, now)
    known = {role.value for role in Role}  # a role dropped from the code grants nothing
    return AuthenticatedOperator(operator.operator_id, operator.username, operator.full_name, operator.unit,
                                 frozenset(Role(r) for r in operator.roles if r in known), row.token_id,
                                 row.expires_at)
