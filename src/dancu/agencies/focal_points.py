"""Focal points (cán bộ đầu mối) of an organisation: named in the request letter and at step 2, then added,
updated and withdrawn by operators — each change a ``focal_point_change`` row (who, when, why, what) written
with it.  An organisation the public directory lists always keeps at least one published focal point.

Never commits: the HTTP request or the CLI command does, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dancu.agencies import repository
from dancu.agencies.domain import (
    FOCAL_POINT_FIELDS,
    UPDATABLE_FOCAL_POINT_FIELDS,
    FocalPointChangeKind,
    focal_point_changes,
    leaves_no_focal_point,
)
from dancu.agencies.errors import (
    FocalPointExists,
    FocalPointNotFound,
    FocalPointRequired,
    FocalPointWithdrawn,
    OrganisationNotFound,
)
from dancu.agencies.identifiers import InvalidIdentifier, MemberId, parse_member
from dancu.agencies.models import FocalPoint, FocalPointChange, Organisation
from dancu.agencies.schemas import FocalPointCreate, FocalPointIn, FocalPointUpdate
from dancu.errors import ValidationFailed, field_error
from dancu.kit.text import exact_key

if TYPE_CHECKING:
    from dancu.agencies.service import Context


def member_of(org: Organisation) -> str:
    return str(MemberId(org.instance, org.member_class, org.member_code))


def get_organisation(ctx: Context, identifier: str, lock: bool = False) -> Organisation:
    """The organisation ``INSTANCE/CLASS/CODE`` (locked until the transaction ends with ``lock``)."""
    try:
        member = parse_member(identifier)
    except InvalidIdentifier:
        raise OrganisationNotFound(identifier) from None
    finder = repository.locked_organisation if lock else repository.organisation_by_member
    org = finder(ctx.session, member)
    if org is None:
        raise OrganisationNotFound(identifier)
    return org


def record(ctx: Context, point: FocalPoint, kind: FocalPointChangeKind, reason: str | None,
           changes: Mapping[str, Sequence[str | None]] | None = None) -> None:
    """The history row of a change, written in the same transaction as the change."""
    diff = {field: list(values) for field, values in (changes or {}).items()}
    repository.add(ctx.session, FocalPointChange(focal_point_id=point.focal_point_id, kind=kind.value,
                                                 actor=ctx.actor, reason=reason, changes=diff, changed_at=ctx.now))


def appoint(ctx: Context, org: Organisation, person: FocalPointIn, published: bool, reason: str) -> FocalPoint:
    """A new focal point of ``org`` — proposed (step 1) or public at once — and its first history row."""
    point = FocalPoint(org_id=org.org_id, name=person.name, position=person.position, function=person.function,
                       phone=person.phone, email=person.email, published=published)
    repository.add(ctx.session, point)
    kind = FocalPointChangeKind.ADDED if published else FocalPointChangeKind.PROPOSED
    record(ctx, point, kind, reason, {f: [None, getattr(point, f)] for f in FOCAL_POINT_FIELDS})
    return point


def publish(ctx: Context, point: FocalPoint, reason: str) -> None:
    if not point.published:
        point.published = True
        record(ctx, point, FocalPointChangeKind.PUBLISHED, reason)


def appoint_or_publish(ctx: Context, org: Organisation, person: FocalPointIn, reason: str) -> FocalPoint:
    """Step 2's naming: an officer already on record for ``org`` (the same e-mail, e.g. the one proposed at step
    1) is published, with any changed detail recorded, instead of being added a second time."""
    same = next((p for p in repository.focal_points_of(ctx.session, org.org_id)
                 if p.email.casefold() == person.email.casefold()), None)
    if same is None:
        return appoint(ctx, org, person, published=True, reason=reason)
    if exact_key(same.name) != exact_key(person.name):  # another person at that address: refused, as when added
        raise FocalPointExists(member_of(org), person.email, same.focal_point_id)
    changes = focal_point_changes({f: getattr(same, f) for f in UPDATABLE_FOCAL_POINT_FIELDS},
                                  person.model_dump(include=set(UPDATABLE_FOCAL_POINT_FIELDS)))
    changes.pop("email", None)  # the same address, perhaps in other letter case: the one on record stays
    for field, (_, new) in changes.items():
        setattr(same, field, new)
    if changes:
        record(ctx, same, FocalPointChangeKind.UPDATED, reason, changes)
    publish(ctx, same, reason)
    return same


def _refuse_duplicate(ctx: Context, org: Organisation, email: str, besides: int | None = None) -> None:
    for other in repository.focal_points_of(ctx.session, org.org_id):
        if other.focal_point_id != besides and other.email.casefold() == email.casefold():
            raise FocalPointExists(member_of(org), email, other.focal_point_id)


def add(ctx: Context, organisation: str, body: FocalPointCreate) -> FocalPoint:
    """Name another focal point of an organisation; it is in the public directory at once."""
    org = get_organisation(ctx, organisation, lock=True)
    _refuse_duplicate(ctx, org, body.email)
    return appoint(ctx, org, body, published=True, reason=body.reason)


def _current(ctx: Context, org: Organisation, focal_point_id: int) -> FocalPoint:
    point = ctx.session.get(FocalPoint, focal_point_id)
    if point is None or point.org_id != org.org_id:
        raise FocalPointNotFound(member_of(org), focal_point_id)
    if point.withdrawn_at is not None:
        raise FocalPointWithdrawn(focal_point_id, point.name)
    return point


def update(ctx: Context, organisation: str, focal_point_id: int, body: FocalPointUpdate) -> FocalPoint:
    """Change a focal point's position, function, phone or e-mail; the directory shows it at once."""
    org = get_organisation(ctx, organisation, lock=True)
    point = _current(ctx, org, focal_point_id)
    changes = focal_point_changes({f: getattr(point, f) for f in UPDATABLE_FOCAL_POINT_FIELDS},
                                  body.model_dump(include=set(UPDATABLE_FOCAL_POINT_FIELDS)))
    if not changes:
        raise ValidationFailed([field_error("body", "no_change", "Không có gì thay đổi so với thông tin hiện có.",
                                            "Nothing differs from what is recorded.")])
    if "email" in changes:
        _refuse_duplicate(ctx, org, changes["email"][1], besides=point.focal_point_id)
    for field, (_, new) in changes.items():
        setattr(point, field, new)
    record(ctx, point, FocalPointChangeKind.UPDATED, body.reason, changes)
    return point


def withdraw(ctx: Context, organisation: str, focal_point_id: int, reason: str) -> FocalPoint:
    """The officer is no longer a focal point: gone from the directory, kept in the history.  Refused
    (:class:`FocalPointRequired`) when it would leave an organisation the directory lists with none published."""
    org = get_organisation(ctx, organisation, lock=True)
    point = _current(ctx, org, focal_point_id)
    if point.published:
        others = [p for p in repository.focal_points_of(ctx.session, org.org_id, published_only=True)
                  if p.focal_point_id != point.focal_point_id]
        listed = repository.listed_systems_of(ctx.session, org.org_id)
        if leaves_no_focal_point(len(others), listed):
            raise FocalPointRequired(member_of(org), listed)
    point.withdrawn_at = ctx.now
    record(ctx, point, FocalPointChangeKind.WITHDRAWN, reason)
    return point
