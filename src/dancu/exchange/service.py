"""The exchange's rules, in the order every request follows: (caller already authenticated) → purpose →
policy → environment (a test call names sandbox residents only) → rate and daily quota → registry read (of
the residents the call's environment may see) → answer → durable log entry → only then the answer leaves.

Nothing here commits or sends: the routes send the bytes returned, after the ledger has them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from dancu.errors import DancuError, ValidationFailed, field_error
from dancu.exchange import domain, repository
from dancu.exchange.calls import Call, refuse
from dancu.exchange.errors import (
    PolicyDenied,
    PurposeRequired,
    QuotaExceeded,
    RateLimited,
    ResidentNotFound,
    TestCredentialsSandboxOnly,
)
from dancu.exchange.quota import seconds_to_midnight
from dancu.exchange.runtime import Runtime
from dancu.exchange.schemas import BatchRequest, RetrieveRequest, VerifyItem, VerifyRequest
from dancu.policy.domain import Environment, Policy, Request, decide, outside_sandbox
from dancu.registry import id_number

INVALID_ID = "invalid_id_number"


async def admit(rt: Runtime, call: Call, *, purpose: str | None, legal_basis: str | None, fields: frozenset[str],
                personal_ids: tuple[str, ...], records: int = 1, source: str | None = None,
                confine: tuple[str | None, ...] | None = None, where: str = "") -> Policy:
    """Purpose, policy, environment, rate and quota — each refusal logged, then raised.  The rate counts
    requests: this call takes one token whatever its size (a batch of 1,000 items or a job of millions is one
    request), so any request the policy allows can pass.  The daily quota counts records: ``records`` of them
    (the items of a batch, the lines of a job, the records of a push).  ``source``: the sector source pushed
    for.  ``confine``: the personal IDs a test call must keep to the sandbox, one per item (``None``: a record
    naming none; default ``personal_ids``); ``where`` names the positions in the refusal (``items``, ``lines``,
    ``records``; empty for a call about one resident)."""
    async def deny(error: DancuError) -> None:
        await refuse(rt, call, error, purpose, legal_basis, personal_ids)
        raise error

    if not purpose or not purpose.strip():
        await deny(PurposeRequired())
    policy = await rt.policy(call.policy_version_id)
    decision = decide(policy, Request(call.service, fields, purpose, legal_basis, call.end_user, source))
    if not decision.allowed or policy is None:
        await deny(PolicyDenied(decision.explain()))
    assert policy is not None
    outside = await outside_environment(rt, call, personal_ids if confine is None else confine)
    if outside:
        await deny(TestCredentialsSandboxOnly(where, outside))
    if rt.rate.allow(call.meter, policy.rate_per_second, time.monotonic()) is not None:
        await deny(RateLimited(policy.rate_per_second))
    now = datetime.now(UTC)
    if not await rt.quota.consume(call.client_system_id, policy.daily_quota, now, records, call.environment):
        await deny(QuotaExceeded(policy.daily_quota, seconds_to_midnight(now)))
    return policy


async def outside_environment(rt: Runtime, call: Call, asked: Sequence[str | None]) -> list[int]:
    """Positions of ``asked`` the call may not touch (:func:`dancu.policy.domain.outside_sandbox`): for a test
    call every number that is not a sandbox resident's — a real resident's, nobody's, or a malformed one."""
    if call.environment != Environment.TEST:
        return []
    async with rt.pool.connection() as conn:
        in_sandbox = await repository.sandbox_ids(conn, sorted({p for p in asked if p is not None}))
    return outside_sandbox(call.environment, asked, in_sandbox)


async def precheck(rt: Runtime, call: Call, *, purpose: str | None, legal_basis: str | None,
                   source: str | None = None) -> None:
    """Purpose and policy only, nothing counted (the refusal logged): refuse a caller the policy refuses anyway
    before reading or checking a large body; :func:`admit` follows once the body is known to be well formed."""
    error: DancuError | None = None
    if not purpose or not purpose.strip():
        error = PurposeRequired()
    else:
        decision = decide(await rt.policy(call.policy_version_id),
                          Request(call.service, frozenset(), purpose, legal_basis, call.end_user, source))
        error = None if decision.allowed else PolicyDenied(decision.explain())
    if error is not None:
        await refuse(rt, call, error, purpose, legal_basis)
        raise error


def well_formed(personal_id: str) -> bool:
    try:
        id_number.parse(personal_id)
    except id_number.IdNumberError:
        return False
    return True


def _check_id(personal_id: str) -> None:
    try:
        id_number.parse(personal_id)
    except id_number.IdNumberError as error:
        raise ValidationFailed([field_error("personal_id", INVALID_ID, error.message_vi, error.message_en)]) from None


def verdict_of(item: VerifyItem, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    claim = item.claim()
    if not well_formed(claim.personal_id):
        fields = domain.verify(claim, None).fields
        return {"match": False, "code": INVALID_ID, "fields": fields}
    return domain.verify(claim, records.get(claim.personal_id)).as_dict()


def compared(item: VerifyItem, verdict: dict[str, Any]) -> tuple[str, ...]:
    found = verdict["code"] not in ("resident_not_found", INVALID_ID)
    return tuple(sorted(item.claim().policy_fields())) if found else ()


async def verify(rt: Runtime, call: Call, body: VerifyRequest) -> bytes:
    claim = body.claim()
    _check_id(claim.personal_id)
    ids = (claim.personal_id,)
    await admit(rt, call, purpose=body.purpose, legal_basis=body.legal_basis, fields=claim.policy_fields(),
                personal_ids=ids)
    async with rt.pool.connection() as conn:
        records = await repository.verify_records(conn, [claim.personal_id], call.environment)
    return await answer_verify(rt, call, body, records)


async def answer_verify(rt: Runtime, call: Call, body: VerifyRequest, records: dict[str, dict[str, Any]]) -> bytes:
    """The admitted request's answer, returned once its log entry is durable (shared with the lean path)."""
    verdict = verdict_of(body, records)
    answer = {**verdict, "correlation_id": call.correlation_id}
    payload = orjson.dumps(answer)
    receipt = await rt.ledger.append(call.entry(
        result="ok", purpose=body.purpose, legal_basis=body.legal_basis,
        error_code=None if verdict["code"] == "ok" else verdict["code"], personal_ids=(body.claim().personal_id,),
        fields=compared(body, verdict), response=payload))
    return orjson.dumps({**answer, "log_seq": receipt.seq})


async def verify_batch(rt: Runtime, call: Call, body: BatchRequest) -> bytes:
    """One log entry per item (correlation id ``<id>:<index>``): every resident's feed shows its own check."""
    ids = tuple(item.personal_id.strip() for item in body.items)
    fields = frozenset().union(*(item.claim().policy_fields() for item in body.items))
    await admit(rt, call, purpose=body.purpose, legal_basis=body.legal_basis, fields=fields, personal_ids=ids,
                records=len(ids), where="items")
    async with rt.pool.connection() as conn:
        records = await repository.verify_records(conn, sorted({i for i in ids if well_formed(i)}), call.environment)
    verdicts = [verdict_of(item, records) for item in body.items]
    entries = []
    for index, (item, verdict) in enumerate(zip(body.items, verdicts, strict=True)):
        entries.append(call.entry(
            result="ok", purpose=body.purpose, legal_basis=body.legal_basis,
            error_code=None if verdict["code"] == "ok" else verdict["code"], personal_ids=(ids[index],),
            fields=compared(item, verdict), response=orjson.dumps(verdict),
            correlation_id=f"{call.correlation_id}:{index}"))
    receipts = await rt.ledger.append_many(entries)
    items = [{**v, "index": i, "log_seq": r.seq} for i, (v, r) in enumerate(zip(verdicts, receipts, strict=True))]
    return orjson.dumps({"correlation_id": call.correlation_id, "items": items})


async def retrieve(rt: Runtime, call: Call, body: RetrieveRequest) -> bytes:
    """Only the fields asked for, all of them allowed (a forbidden one refuses the whole request)."""
    pid = body.personal_id.strip()
    _check_id(pid)
    wanted = tuple(dict.fromkeys(body.fields))
    await admit(rt, call, purpose=body.purpose, legal_basis=body.legal_basis, fields=frozenset(wanted),
                personal_ids=(pid,))
    async with rt.pool.connection() as conn:
        record = await repository.full_record(conn, pid, call.environment)
    if record is None:
        error = ResidentNotFound()
        await rt.ledger.append(call.entry(result="ok", purpose=body.purpose, legal_basis=body.legal_basis,
                                          error_code=error.code, personal_ids=(pid,)))
        raise error
    fallback = record.updated_at.isoformat()
    fields = {name: {"value": record.state.get(name), **domain.provenance_of(name, record.provenance, fallback)}
              for name in wanted}
    code = {"dead": "resident_deceased", "missing": "resident_missing"}.get(str(record.state.get("death_kind")), "ok")
    answer = {"personal_id": pid, "code": code, "fields": fields, "correlation_id": call.correlation_id}
    payload = orjson.dumps(answer)
    receipt = await rt.ledger.append(call.entry(
        result="ok", purpose=body.purpose, legal_basis=body.legal_basis, error_code=None if code == "ok" else code,
        personal_ids=(pid,), fields=wanted, response=payload))
    return orjson.dumps({**answer, "log_seq": receipt.seq})
