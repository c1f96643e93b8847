"""Asynchronous verify jobs for millions of claims (subscriber and customer list cleansing).

``POST /exchange/v1/verify/jobs`` streams a JSON Lines or CSV body into the staging table
``exchange_job_item`` (one COPY per 5,000 lines, one transaction), then checks policy and quota for the
whole file and answers 202.  A runner task verifies 1,000 lines at a time: it re-checks the system's status
and policy, reads the residents in one query, logs one ledger entry per line and waits for them, then stores
the results and the checkpoint in one transaction.  A job whose runner died (no progress for a minute) is
claimed by another runner and resumed from its checkpoint; lines verified but not yet saved are verified and
logged again — the log may hold a line twice, never zero times.

A job stops (``stopped``, with the reason as ``error``) at the next chunk once its system or relaying platform
is suspended or terminated, or the policy in force no longer allows it; a policy change that still allows it
does not stop it.  A stopped job stays stopped, also once the system is resumed: what was verified stays
readable, and the rest is a new job — a new request, checked and logged as one (docs/integrators.md).

A job lives in the environment of the credential that submitted it (``params.environment``): a test job
must name sandbox residents only — every staged line is checked before 202 — and is verified under the
test policy against the sandbox alone, while the system may still be onboarding; a production job under the
production policy, the sandbox left out, the system live.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from dancu.agencies.domain import CredentialKind, SystemStatus, effective_status, statuses_allowed
from dancu.exchange import domain, repository, service
from dancu.exchange.calls import Call, Caller, refuse
from dancu.exchange.errors import (
    JobInputInvalid,
    JobNotFound,
    TestCredentialsSandboxOnly,
    UnsupportedJobMediaType,
)
from dancu.exchange.runtime import Runtime, runtime_of
from dancu.exchange.schemas import Address, NoNul, VerifyItem
from dancu.policy.domain import Environment, decide
from dancu.policy.domain import Request as PolicyRequest

log = logging.getLogger(__name__)
STAGE_ROWS = 5_000
CHUNK = 1_000
STALE_SECONDS = 60
MAX_LINE = 4_096
CSV_COLUMNS = ("personal_id", "full_name", "date_of_birth", "sex", "address_province", "address_commune",
               "address_text")
MEDIA = {"application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/json-lines": "jsonl",
         "text/csv": "csv"}
UPLOAD_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/x-ndjson": {"schema": {"type": "string", "description": "One VerifyItem JSON object per line"}},
    "text/csv": {"schema": {"type": "string", "description": "Header line, then one claim per line: "
                                                              + ",".join(CSV_COLUMNS)}}}}}


def _csv_values(line: str, number: int) -> list[str]:
    try:
        return next(csv.reader([line]))
    except csv.Error as error:  # a stray carriage return, a NUL...: the line, not the server, is at fault
        raise JobInputInvalid(number, f"not CSV: {error}") from None


def _item_from_csv(header: list[str], line: str, number: int) -> VerifyItem:
    values = _csv_values(line, number)
    if len(values) != len(header):
        raise JobInputInvalid(number, f"expected {len(header)} columns, got {len(values)}")
    row = {k: (v if v != "" else None) for k, v in zip(header, values, strict=True)}
    address = {k.removeprefix("address_"): row.pop(k) for k in list(row) if k.startswith("address_")}
    return VerifyItem(**row, address=Address(**address) if any(address.values()) else None)


def _item_from_json(line: str, number: int) -> VerifyItem:
    try:
        return VerifyItem.model_validate(orjson.loads(line))
    except orjson.JSONDecodeError as error:
        raise JobInputInvalid(number, f"not JSON: {error}") from None


def _csv_header(line: str) -> list[str]:
    header = [h.strip() for h in _csv_values(line, 1)]
    if "personal_id" not in header or not set(header) <= set(CSV_COLUMNS) or len(set(header)) != len(header):
        raise JobInputInvalid(1, f"the header must name personal_id and only these columns: {', '.join(CSV_COLUMNS)}")
    return header


async def _lines(request: Request, digest: Any) -> AsyncIterator[tuple[int, str]]:
    buffer, number = b"", 0
    async for chunk in request.stream():
        digest.update(chunk)
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            number += 1
            yield number, _decode(raw, number)
        if len(buffer) > MAX_LINE:
            raise JobInputInvalid(number + 1, f"line longer than {MAX_LINE} bytes")
    if buffer.strip():
        yield number + 1, _decode(buffer, number + 1)


def _decode(raw: bytes, number: int) -> str:
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise JobInputInvalid(number, "not UTF-8") from None


async def _stage(rt: Runtime, conn: Any, job_id: int, request: Request, fmt: str, digest: Any
                 ) -> tuple[int, frozenset[str]]:
    rows: list[tuple[int, int, str, str]] = []
    fields: set[str] = set()
    header: list[str] | None = None
    total = 0
    async for number, line in _lines(request, digest):
        if not line:
            continue
        if fmt == "csv" and header is None:
            header = _csv_header(line)
            continue
        try:
            item = _item_from_csv(header or [], line, number) if fmt == "csv" else _item_from_json(line, number)
        except ValidationError as error:
            raise JobInputInvalid(number, error.errors()[0].get("msg", "invalid"),
                                  field=".".join(map(str, error.errors()[0].get("loc", ())))) from None
        total += 1
        fields |= item.claim().policy_fields()
        rows.append((job_id, total, item.personal_id.strip(), item.model_dump_json(exclude_none=True)))
        if len(rows) >= STAGE_ROWS:
            await repository.stage_items(conn, rows)
            rows = []
    if rows:
        await repository.stage_items(conn, rows)
    if total == 0:
        raise JobInputInvalid(1, "no claim in the body")
    return total, frozenset(fields)


def _view(job: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": job["job_id"], "state": job["state"], "total": job["total"], "done": job["done"],
            "error": job["error"], "results_url": f"/exchange/v1/verify/jobs/{job['job_id']}/results"}


async def submit(request: Request, call: Caller,
                 purpose: Annotated[str | None, Query(max_length=200), NoNul] = None,
                 legal_basis: Annotated[str | None, Query(max_length=200), NoNul] = None) -> Response:
    rt = runtime_of(request)
    fmt = MEDIA.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if fmt is None:
        raise UnsupportedJobMediaType()
    await service.precheck(rt, call, purpose=purpose, legal_basis=legal_basis)  # before reading millions of lines
    digest = hashlib.sha512()
    async with rt.pool.connection() as conn, conn.transaction():
        params = {"system_id": call.client_system_id, "client_system": call.client_system,
                  "relaying_platform": call.relaying_platform, "end_user": call.end_user, "purpose": purpose,
                  "legal_basis": legal_basis, "correlation_id": call.correlation_id,
                  "environment": call.environment}
        job_id = await repository.create_job(conn, f"exchange-verify:{uuid.uuid4()}", params)
        total, fields = await _stage(rt, conn, job_id, request, fmt, digest)
        headers = {k.lower(): v for k, v in request.headers.items()}
        call.request_hash = hashlib.sha512(hashlib.sha512(domain.canonical_headers(headers)).digest()
                                           + digest.digest()).digest()
        params |= {"fields": sorted(fields), "request_hash": call.request_hash.hex()}
        await _confined(rt, conn, call, job_id, purpose, legal_basis)
        await service.admit(rt, call, purpose=purpose, legal_basis=legal_basis, fields=fields, personal_ids=(),
                            records=total)
        await repository.set_job(conn, job_id, state="running", total=total, params=params)
        await rt.ledger.append(call.entry(result="accepted", purpose=purpose, legal_basis=legal_basis))
    rt.jobs.kick(job_id)
    body = {"job_id": job_id, "state": "running", "total": total, "done": 0, "error": None,
            "results_url": f"/exchange/v1/verify/jobs/{job_id}/results"}
    return Response(orjson.dumps(body), status_code=202, media_type="application/json",
                    headers={"Location": f"/exchange/v1/verify/jobs/{job_id}"})


async def _confined(rt: Runtime, conn: Any, call: Call, job_id: int, purpose: str | None,
                    legal_basis: str | None) -> None:
    """A test job names sandbox residents only: any other line refuses the whole job (logged, nothing kept)."""
    if call.environment != Environment.TEST:
        return
    lines = await repository.job_lines_outside_sandbox(conn, job_id, 100)
    if lines:
        error = TestCredentialsSandboxOnly("lines", lines)
        await refuse(rt, call, error, purpose, legal_basis)
        raise error


async def _own_job(rt: Runtime, call: Call, job_id: int) -> dict[str, Any]:
    async with rt.pool.connection() as conn:
        job = await repository.job(conn, job_id) if 0 < job_id < 2**63 else None
    if job is None or job["params"].get("system_id") != call.client_system_id:
        raise JobNotFound(job_id)
    return job


async def progress(request: Request, call: Caller, job_id: int) -> Response:
    job = await _own_job(runtime_of(request), call, job_id)
    return Response(orjson.dumps(_view(job)), media_type="application/json")


async def results(request: Request, call: Caller, job_id: int,
                  after: Annotated[int, Query(ge=0, le=2**62, description="Resume after this line")] = 0) -> Response:
    """Results are streamed from the staging table; the disclosure of each was logged when it was verified."""
    rt = runtime_of(request)
    await _own_job(rt, call, job_id)

    async def lines() -> AsyncIterator[bytes]:
        async with rt.pool.connection() as conn:
            async for _line, result in repository.results(conn, job_id, after):
                yield orjson.dumps(result) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


# -- the runner -----------------------------------------------------------------------------------------
class JobRunner:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self._scan: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._scan = asyncio.get_running_loop().create_task(self._scan_loop())

    def kick(self, job_id: int) -> None:
        if job_id not in self.tasks:
            self.tasks[job_id] = asyncio.get_running_loop().create_task(self._run(job_id))

    async def _scan_loop(self) -> None:
        while True:
            try:
                async with self.rt.pool.connection() as conn:
                    job_id = await repository.claim_stale_job(conn, STALE_SECONDS)
                if job_id is not None:
                    self.kick(job_id)
                    continue
            except Exception:
                log.warning("verify-job scan failed", exc_info=True)
            await asyncio.sleep(10)

    async def _run(self, job_id: int) -> None:
        try:
            await process(self.rt, job_id)
        except Exception:
            log.warning("verify job %s paused; it resumes once stale", job_id, exc_info=True)
        finally:
            self.tasks.pop(job_id, None)

    async def stop(self) -> None:
        for task in [self._scan, *self.tasks.values()]:
            if task is not None:
                task.cancel()
        self.tasks.clear()


async def _stop_reason(rt: Runtime, params: dict[str, Any]) -> str | None:
    """Checked before every chunk, as on every request: status of the system (and its platform), policy of the
    job's environment."""
    now = datetime.now(UTC)
    environment = params.get("environment", Environment.PRODUCTION.value)
    allowed = statuses_allowed(CredentialKind(environment))
    version = None
    async with rt.pool.connection() as conn:
        for identifier in filter(None, (params["client_system"], params.get("relaying_platform"))):
            row = await repository.system_row(conn, identifier, environment)
            if row is None:
                return "system_terminated"
            status = effective_status(row.status, row.suspended_until, now)
            platform = identifier != params["client_system"]
            if status not in allowed or (platform and status is not SystemStatus.ACTIVE):
                return {SystemStatus.SUSPENDED: "system_suspended"}.get(status, "system_terminated")
            if not platform:
                version = row.policy_version_id
    decision = decide(await rt.policy(version), PolicyRequest(
        "batch_verify", frozenset(params.get("fields", ())), params.get("purpose"), params.get("legal_basis"),
        params.get("end_user")))
    return None if decision.allowed else "policy_denied"


def _job_call(params: dict[str, Any]) -> Call:
    return Call("batch_verify", params["correlation_id"], bytes.fromhex(params.get("request_hash", "")),
                time.perf_counter(), params.get("end_user"), params["client_system"], params["system_id"],
                relaying_platform=params.get("relaying_platform"),
                environment=params.get("environment", Environment.PRODUCTION.value))


async def process(rt: Runtime, job_id: int) -> None:
    async with rt.pool.connection() as conn:
        job = await repository.job(conn, job_id)
    if job is None or job["state"] != "running":
        return
    params, done = job["params"], int(job["done"])
    after = int(job["checkpoint"].get("line", 0))
    while True:
        async with rt.pool.connection() as conn:
            items = await repository.pending_items(conn, job_id, after, CHUNK)
            if not items:
                await repository.set_job(conn, job_id, state="done", finished_at=datetime.now(UTC))
                return
        reason = await _stop_reason(rt, params)
        if reason is not None:
            async with rt.pool.connection() as conn:
                await repository.set_job(conn, job_id, state="stopped", error=reason)
            return
        results = await _chunk(rt, params, items)
        after, done = items[-1][0], done + len(items)
        async with rt.pool.connection() as conn:
            await repository.save_results(conn, job_id, results, done, {"line": after})


async def _chunk(rt: Runtime, params: dict[str, Any], items: list[tuple[int, str, dict[str, Any]]]
                 ) -> list[tuple[int, dict[str, Any]]]:
    call = _job_call(params)
    claims = [VerifyItem.model_validate(raw) for _, _, raw in items]
    async with rt.pool.connection() as conn:
        records = await repository.verify_records(conn, sorted({p for _, p, _ in items if service.well_formed(p)}),
                                                  call.environment)
    verdicts = [service.verdict_of(item, records) for item in claims]
    entries = [call.entry(result="ok", purpose=params.get("purpose"), legal_basis=params.get("legal_basis"),
                          error_code=None if v["code"] == "ok" else v["code"], personal_ids=(pid,),
                          fields=service.compared(item, v), response=orjson.dumps(v),
                          correlation_id=f"{call.correlation_id}:{line}")
               for (line, pid, _), item, v in zip(items, claims, verdicts, strict=True)]
    receipts = await rt.ledger.append_many(entries)
    return [(line, {"line": line, "personal_id": pid, **v, "log_seq": r.seq})
            for (line, pid, _), v, r in zip(items, verdicts, receipts, strict=True)]
