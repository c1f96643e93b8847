"""Accounts and tokens on a real database (each test rolled back)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dancu.errors import ValidationFailed
from dancu.operators import repository, service
from dancu.operators.domain import Role
from dancu.operators.errors import (
    OperatorDisabled,
    OperatorExists,
    OperatorNotFound,
    OperatorUnauthenticated,
    SelfLockout,
    TokenNotFound,
)
from dancu.operators.models import OperatorToken

INSPECTOR = frozenset({Role.INSPECTOR})


def ctx(session: Session, actor: str = "cli:root", shift: timedelta = timedelta()) -> service.Context:
    return service.Context(session, actor, service.utcnow() + shift)


def name() -> str:
    return f"op-{uuid.uuid4().hex[:8]}"


def test_an_operator_gets_a_token_that_authenticates(session: Session) -> None:
    username = name()
    service.add(ctx(session), username, "Trần Văn Bình", "C06 — Phòng 3", INSPECTOR)
    row, token = service.issue_token(ctx(session), username, days=7, note="laptop")
    assert row.token_hash != token.encode() and token not in repr(row.__dict__)
    who = service.authenticate(session, token, service.utcnow())
    assert (who.username, who.roles, who.token_id) == (username, INSPECTOR, row.token_id)
    session.refresh(row)
    assert row.last_used_at is not None
    session.flush()
    kinds = [e.kind for e in repository.events_of(session, who.operator_id)]
    assert kinds == ["created", "token_issued"]


def test_usernames_are_unique_and_checked(session: Session) -> None:
    username = name()
    service.add(ctx(session), username, "A", "B", INSPECTOR)
    with pytest.raises(OperatorExists):
        service.add(ctx(session), username, "A", "B", INSPECTOR)
    with pytest.raises(ValidationFailed):
        service.add(ctx(session), "Bad Name", "A", "B", INSPECTOR)


@pytest.mark.parametrize("spoil", ["expired", "revoked", "disabled", "unknown", "malformed"])
def test_a_token_stops_working(session: Session, spoil: str) -> None:
    username = name()
    service.add(ctx(session), username, "A", "B", INSPECTOR)
    shift = timedelta(days=-2) if spoil == "expired" else timedelta()
    row, token = service.issue_token(ctx(session, shift=shift), username, days=1)
    if spoil == "revoked":
        service.revoke_token(ctx(session), username, row.token_id)
    elif spoil == "disabled":
        service.disable(ctx(session), username)
    elif spoil == "unknown":
        token = service.domain.new_token()
    elif spoil == "malformed":
        token = token[:-1] + ("0" if token[-1] != "0" else "1")
    with pytest.raises(OperatorUnauthenticated):
        service.authenticate(session, token, service.utcnow())


def test_disabling_revokes_every_token_and_enabling_revives_none(session: Session) -> None:
    username = name()
    service.add(ctx(session), username, "A", "B", INSPECTOR)
    tokens = [service.issue_token(ctx(session), username)[1] for _ in range(2)]
    service.disable(ctx(session, "admin-1"), username)
    operator = service.get(session, username)
    assert (operator.active, operator.disabled_by) == (False, "admin-1")
    assert all(t.revoked_at for t in repository.tokens_of(session, operator.operator_id))
    with pytest.raises(OperatorDisabled):
        service.issue_token(ctx(session), username)
    service.enable(ctx(session), username)
    for token in tokens:
        with pytest.raises(OperatorUnauthenticated):
            service.authenticate(session, token, service.utcnow())
    _, fresh = service.issue_token(ctx(session), username)
    assert service.authenticate(session, fresh, service.utcnow()).username == username


def test_roles_change_on_the_next_request(session: Session) -> None:
    username = name()
    service.add(ctx(session), username, "A", "B", INSPECTOR)
    _, token = service.issue_token(ctx(session), username)
    service.set_roles(ctx(session), username, frozenset({Role.REVIEWER}))
    assert service.authenticate(session, token, service.utcnow()).roles == {Role.REVIEWER}


def test_an_admin_cannot_lock_themselves_out(session: Session) -> None:
    admin = name()
    service.add(ctx(session), admin, "A", "B", frozenset({Role.ADMIN}))
    with pytest.raises(SelfLockout):
        service.disable(ctx(session, admin), admin)
    with pytest.raises(SelfLockout):
        service.set_roles(ctx(session, admin), admin, INSPECTOR)
    assert service.set_roles(ctx(session, admin), admin, frozenset({Role.ADMIN, Role.INSPECTOR})).active


def test_revoke_all_and_unknown_things(session: Session) -> None:
    username = name()
    service.add(ctx(session), username, "A", "B", INSPECTOR)
    for _ in range(3):
        service.issue_token(ctx(session), username)
    assert service.revoke_all(ctx(session), username) == 3
    assert service.revoke_all(ctx(session), username) == 0
    with pytest.raises(TokenNotFound):
        service.revoke_token(ctx(session), username, 2**62)
    with pytest.raises(OperatorNotFound):
        service.issue_token(ctx(session), "nobody-here")


def test_token_lifetime_is_bounded(session: Session) -> None:
    username = name()
    service.add(ctx(session), username, "A", "B", INSPECTOR)
    for days in (0, 366):
        with pytest.raises(ValidationFailed):
            service.issue_token(ctx(session), username, days=days)
    row, _ = service.issue_token(ctx(session), username)
    assert timedelta(days=29) < row.expires_at - row.created_at <= timedelta(days=30)


def test_last_use_is_not_rewritten_within_a_minute(session: Session) -> None:
    username = name()
    service.add(ctx(session), username, "A", "B", INSPECTOR)
    row, token = service.issue_token(ctx(session), username)
    now = service.utcnow()
    service.authenticate(session, token, now)
    service.authenticate(session, token, now + timedelta(seconds=30))
    assert session.get(OperatorToken, row.token_id, populate_existing=True).last_used_at == now  # type: ignore[union-attr]
