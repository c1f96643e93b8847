"""Enrichment push (service ``enrichment_push``): an approved sector system sends a batch of its records
(≤ 10,000) for a source its policy lists; the batch is synchronised at once by the ordinary pipeline and the
answer carries the job's report.

Order, as every exchange request: (caller authenticated) → purpose and policy, the source included (nothing
counted yet) → the batch's structure (422, nothing changed) → rate (one per push) and quota (one per record)
→ the push put on record → spool and synchronise (one transaction for the whole batch, in a worker thread) →
answer → durable exchange-log entry → only then the answer leaves.

The answer's counts say how the registry judged the records (an ID not found, a name that differs), so a push
discloses something about the residents it names: it is logged with their personal IDs, as a verify is.

A push made with a test credential must name, in every record, the personal ID number of a sandbox resident:
a record naming someone else — or none, since it would then be matched by name and date of birth against the
whole registry — refuses the whole push (``test_credentials_sandbox_only``, the records listed), before
anything is written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson

from dancu.db import Database
from dancu.exchange import service
from dancu.exchange.calls import Call
from dancu.exchange.errors import JobNotFound
from dancu.exchange.runtime import Runtime
from dancu.exchange.schemas import EnrichmentPush
from dancu.policy.domain import Environment
from dancu.sync import sources
from dancu.sync.jobs import RunResult
from dancu.sync.push import domain, spool
from dancu.sync.push import repository as push_repo
from dancu.sync.push.settings import get_push_settings

PATH = "/exchange/v1/enrichment"


@dataclass(frozen=True)
class Answer:
    status: int  # 200 done, 202 another request is still synchronising the same batch
    body: bytes
    location: str


async def push(rt: Runtime, database: Database, call: Call, body: EnrichmentPush) -> Answer:
    batch = await _admitted(rt, call, body)
    result = await _synchronised(rt, database, call, body, batch)
    # The pipeline commits with synchronous_commit off; the log entry below commits durably, and WAL is flushed in
    # order, so once it is durable the batch's commit is too: the answer never reports a change an OS crash undoes.
    view = await _view(rt, call.client_system_id, job_id=result.job_id)
    answer = {**view, "replayed": result.records == 0, "correlation_id": call.correlation_id}
    payload = orjson.dumps(answer)
    receipt = await rt.ledger.append(call.entry(
        result="ok", purpose=body.purpose, legal_basis=body.legal_basis, personal_ids=batch.personal_ids,
        fields=(f"sector_ids.{batch.source.sector_key}",), response=payload))
    return Answer(200 if view["state"] == "done" else 202, orjson.dumps({**answer, "log_seq": receipt.seq}),
                  view["job_url"])


async def _admitted(rt: Runtime, call: Call, body: EnrichmentPush) -> domain.Batch:
    """Purpose and policy (the source included), then structure, then rate and quota: a refused or malformed
    push counts nothing and changes nothing."""
    purpose, basis = body.purpose, body.legal_basis
    await service.precheck(rt, call, purpose=purpose, legal_basis=basis, source=body.source)
    batch = domain.batch(sources.get(body.source, get_push_settings().sync_sources), body.records)
    named = (tuple(next(iter(domain.personal_ids(batch.source, [record])), None) for record in body.records)
             if call.environment == Environment.TEST else None)  # the number each record names, if any
    await service.admit(rt, call, purpose=purpose, legal_basis=basis, fields=frozenset(), personal_ids=(),
                        records=batch.records, source=body.source, confine=named, where="records")
    return batch


async def _synchronised(rt: Runtime, database: Database, call: Call, body: EnrichmentPush,
                        batch: domain.Batch) -> RunResult:
    async with rt.pool.connection() as conn:
        await push_repo.record_push(conn, spool.job_key(batch), call.client_system_id, batch.source.code,
                                    batch.records)
    try:
        async with rt.pushes:
            return await asyncio.to_thread(spool.synchronise, database, get_push_settings().directory(), batch)
    except Exception:
        # the batch applies whole or not at all, and sending it again finishes it; the failed call is logged anyway
        await rt.ledger.append(call.entry(
            result="error", purpose=body.purpose, legal_basis=body.legal_basis, error_code="internal_error",
            personal_ids=batch.personal_ids))
        raise


async def job(rt: Runtime, call: Call, job_id: int) -> bytes:
    """A push job's state and report, for the system that pushed it (anyone else: ``job_not_found``)."""
    return orjson.dumps(await _view(rt, call.client_system_id, job_id=job_id))


async def _view(rt: Runtime, system_id: int, *, job_id: int) -> dict[str, Any]:
    async with rt.pool.connection() as conn:
        found = await push_repo.pushed_job(conn, system_id, job_id=job_id)
        if found is None:
            raise JobNotFound(job_id)
        rejected = await push_repo.rejected_lines(conn, found.job_id)
    report = found.report
    return {"job_id": found.job_id, "state": "done" if found.state == "done" else "running", "source": found.source,
            "batch_sha256": found.sha256, "records": found.records, "processed": int(report.get("records", 0)),
            "outcomes": report.get("outcomes", {}), "reasons": report.get("reasons", {}),
            "rejected": [{"index": line - 1, "reasons": reasons} for line, reasons in rejected],
            "demographic": (report.get("stage_b") or {}).get("counts"), "job_url": f"{PATH}/{found.job_id}"}
