"""``dancu agencies …``: the database manager's commands on connected systems, one transaction per command."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from dancu.agencies import credentials, focal_points, queries, repository, sandbox, service
from dancu.agencies.schemas import FocalPointCreate, FocalPointUpdate, OnboardingCreate, StepBody, WithdrawBody
from dancu.agencies.tokens import utcnow
from dancu.db import get_database
from dancu.errors import ValidationFailed, field_error

app = typer.Typer(help="Hệ thống kết nối — connected systems: onboarding, suspension, keys.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Môi trường kiểm thử — the sandbox of synthetic residents test credentials reach.",
                          no_args_is_help=True)
focal_app = typer.Typer(help="Cán bộ đầu mối — an organisation's focal points after onboarding: add, update, "
                                "withdraw (each recorded with who, when, why).", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(focal_app, name="focal-points")
console = Console()
ACTOR = typer.Option(..., "--actor", help="Who is acting (recorded with the step or change).")
JsonFile = Annotated[Path | None, typer.Option("--json", help="JSON body, as the HTTP API takes it.")]
Documents = Annotated[list[Path] | None, typer.Option(
    "--document", exists=True, dir_okay=False, readable=True,
    help="A document of the step (repeatable): its file name and SHA-256 are recorded, added to the JSON body's.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the history).")]


@contextmanager
def _context(actor: str = "cli") -> Iterator[service.Context]:
    with get_database().sessions.begin() as session:
        yield service.Context(session, actor, utcnow())


def _print(value: Any) -> None:
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _read(model: type[BaseModel], path: Path | None, extra: dict[str, Any] | None = None) -> Any:
    values = json.loads(path.read_text(encoding="utf-8")) if path else {}
    try:
        return model.model_validate({**values, **(extra or {})})
    except ValidationError as error:
        raise ValidationFailed(
            [field_error(".".join(map(str, e["loc"])), e["type"], e["msg"], e["msg"]) for e in error.errors()]
        ) from None


def _given(**options: Any) -> dict[str, Any]:
    """The options the operator gave (typer passes the others as None)."""
    return {k: v for k, v in options.items() if v is not None}


def _with_documents(path: Path | None, documents: list[Path] | None, extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` plus ``documents``: the JSON body's documents, then each file given (name and SHA-256)."""
    if not documents:
        return extra
    given = json.loads(path.read_text(encoding="utf-8")).get("documents", []) if path else []
    hashed = [{"name": d.name, "sha256": hashlib.sha256(d.read_bytes()).hexdigest()} for d in documents]
    return {**extra, "documents": [*given, *hashed]}


@app.command()
def start(json_file: JsonFile, actor: str = ACTOR, document: Documents = None) -> None:
    """Step 1: record a request letter from a JSON file (the letter itself: in it, or --document)."""
    with _context(actor) as ctx:
        request = service.start(ctx, _read(OnboardingCreate, json_file, _with_documents(json_file, document, {})))
        _print(queries.onboarding_view(ctx.session, request.request_id))


@app.command()
def step(
    request_id: int,
    number: int,
    json_file: JsonFile = None,
    decision: Annotated[str | None, typer.Option(help="approve | reject (step 6)")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes; the reasons of a rejection")] = None,
    actor: str = ACTOR,
    document: Documents = None,
) -> None:
    """Record step NUMBER (2–10) of onboarding request REQUEST_ID (steps 5 and 6 need a document)."""
    extra = _with_documents(json_file, document, _given(decision=decision, notes=notes))
    with _context(actor) as ctx:
        service.record_step(ctx, request_id, number, _read(StepBody, json_file, extra))
        _print(queries.onboarding_view(ctx.session, request_id))


@app.command()
def request(request_id: int) -> None:
    """Show an onboarding request and its recorded steps."""
    with _context() as ctx:
        _print(queries.onboarding_view(ctx.session, request_id))


@app.command()
def show(system: str) -> None:
    """Show a system (INSTANCE/CLASS/CODE/SUBSYSTEM): status, credentials."""
    with _context() as ctx:
        _print(queries.system_view(ctx.session, service.get_system(ctx.session, system), ctx.now))


@app.command()
def organisation(member: str) -> None:
    """Show an organisation (INSTANCE/CLASS/CODE): its systems, focal points and their history."""
    with _context() as ctx:
        _print(queries.organisation_view(ctx.session, focal_points.get_organisation(ctx, member), ctx.now))


@app.command()
def suspend(
    system: str,
    reason: Annotated[str, typer.Option(help="Lý do tạm ngừng")],
    until: Annotated[datetime | None, typer.Option(help="Resume by itself after this time (ISO)")] = None,
    actor: str = ACTOR,
) -> None:
    """Suspend a system; it is refused from its very next request."""
    with _context(actor) as ctx:
        _print(queries.system_view(ctx.session, service.suspend(ctx, system, reason, until), ctx.now))


@app.command()
def resume(system: str, reason: Annotated[str | None, typer.Option()] = None, actor: str = ACTOR) -> None:
    """Resume a suspended system."""
    with _context(actor) as ctx:
        _print(queries.system_view(ctx.session, service.resume(ctx, system, reason), ctx.now))


@app.command()
def terminate(system: str, reason: Annotated[str | None, typer.Option()] = None, actor: str = ACTOR) -> None:
    """Terminate a connection: credentials revoked, policy ended, records kept."""
    with _context(actor) as ctx:
        _print(queries.system_view(ctx.session, service.terminate(ctx, system, reason), ctx.now))


@app.command("revoke-key")
def revoke_key(system: str, kid: str, actor: str = ACTOR) -> None:
    """Revoke one key of a system; tokens obtained with it fail on their next request."""
    with _context(actor) as ctx:
        credentials.revoke(ctx.session, service.get_system(ctx.session, system, lock=True), kid, actor, ctx.now)
        console.print(f"[green]revoked[/] {kid}")


@app.command("resume-due")
def resume_due() -> None:
    """Record the end of suspensions whose end date has passed (they stopped applying already)."""
    with _context("scheduler") as ctx:
        _print(service.resume_due(ctx))


@app.command("prune-assertions")
def prune_assertions() -> None:
    """Forget spent client-assertion ids that can no longer be replayed (run daily)."""
    with _context() as ctx:
        console.print(f"pruned {repository.prune_used_assertions(ctx.session, ctx.now)}")


@app.command()
def directory() -> None:
    """Print the public directory (JSON)."""
    with _context() as ctx:
        _print({"agencies": queries.directory(ctx.session, ctx.now)})


@focal_app.command("add")
def focal_point_add(
    member: str,
    reason: Reason,
    json_file: JsonFile = None,
    name: Annotated[str | None, typer.Option(help="Họ tên")] = None,
    position: Annotated[str | None, typer.Option(help="Chức vụ")] = None,
    function: Annotated[str | None, typer.Option(help="Nhiệm vụ đầu mối")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    actor: str = ACTOR,
) -> None:
    """Name another focal point of organisation MEMBER (INSTANCE/CLASS/CODE); public at once."""
    given = _given(name=name, position=position, function=function, phone=phone, email=email, reason=reason)
    body = _read(FocalPointCreate, json_file, given)
    with _context(actor) as ctx:
        _print(queries.focal_point_view(ctx.session, focal_points.add(ctx, member, body)))


@focal_app.command("update")
def focal_point_update(
    member: str,
    focal_point_id: int,
    reason: Reason,
    position: Annotated[str | None, typer.Option(help="Chức vụ")] = None,
    function: Annotated[str | None, typer.Option(help="Nhiệm vụ đầu mối")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    actor: str = ACTOR,
) -> None:
    """Change the position, function, phone or e-mail of focal point FOCAL_POINT_ID of MEMBER."""
    given = _given(position=position, function=function, phone=phone, email=email, reason=reason)
    body = _read(FocalPointUpdate, None, given)
    with _context(actor) as ctx:
        _print(queries.focal_point_view(ctx.session, focal_points.update(ctx, member, focal_point_id, body)))


@focal_app.command("withdraw")
def focal_point_withdraw(member: str, focal_point_id: int, reason: Reason, actor: str = ACTOR) -> None:
    """Withdraw focal point FOCAL_POINT_ID of MEMBER: gone from the directory, kept in the history."""
    body = _read(WithdrawBody, None, {"reason": reason})
    with _context(actor) as ctx:
        _print(queries.focal_point_view(ctx.session, focal_points.withdraw(ctx, member, focal_point_id,
                                                                            body.reason)))


@sandbox_app.command("load")
def sandbox_load(
    residents: Annotated[int, typer.Option("--residents", "-n", min=1, max=10_000_000,
                                           help="The sandbox holds at least this many residents afterwards.")],
    actor: str = ACTOR,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Load synthetic residents (dancu.synth; no real person) into the sandbox: resumes an interrupted load,
    adds only what is missing, a rerun loads nothing."""
    result = sandbox.load(get_database(), residents, actor, progress=progress)
    _print({"residents": result.residents, "loaded": result.loaded, "jobs": list(result.jobs),
            "note": sandbox.NOTE_VI, "note_en": sandbox.NOTE_EN})


@sandbox_app.command("show")
def sandbox_show() -> None:
    """How many sandbox residents there are and every load that made them."""
    _print(sandbox.summary(get_database()))
