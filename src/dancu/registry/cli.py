"""``dancu registry …``: operators' commands on resident records, one transaction per command.

``show``, ``history`` and ``search`` disclose resident data: each writes its exchange-log entry (client system
``operator:cli``, end user ``--actor``, default the login name) before it prints anything.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from dancu.db import get_database
from dancu.errors import ValidationFailed, field_error
from dancu.ledger import operator_reads
from dancu.ledger.operator_reads import ledger_writer as ledger_writer  # tests replace it
from dancu.registry import disclosure, queries, service
from dancu.registry.schemas import (
    ChangeView,
    CorrectionRequest,
    DeathRequest,
    MoveRequest,
    Residence,
    ResidentCreate,
    ResidentRecord,
)

app = typer.Typer(help="Sổ đăng ký dân cư — resident records.", no_args_is_help=True)
console = Console()
ACTOR = typer.Option("operator", "--actor", help="Who is acting (recorded in the history).")
READER = typer.Option(None, "--actor", help=operator_reads.ACTOR_HELP)
PURPOSE = typer.Option(None, "--purpose", help=operator_reads.purpose_help())


def _parsed(model: Any, values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ValidationFailed(
            [field_error(".".join(map(str, e["loc"])), e["type"], e["msg"], e["msg"]) for e in error.errors()]
        ) from None


def _print_record(record: ResidentRecord) -> None:
    table = Table(
        title=f"{record.resident.fields['full_name']} — v{record.resident.version}"
        + (f" (as of {record.as_of.isoformat()})" if record.as_of else "")
    )
    table.add_column("field")
    table.add_column("value")
    table.add_column("source", style="dim")
    for field, value in record.resident.fields.items():
        if value not in (None, [], {}):
            source = record.resident.provenance.get(field, {}).get("source", "")
            table.add_row(
                field, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), source
            )
    console.print(table)
    if record.household:
        members = Table(title=f"household {record.household.household_id}")
        for column in ("personal_id", "full_name", "old_id_number", "relation_to_head"):
            members.add_column(column)
        for m in record.household.members:
            members.add_row(m.personal_id, m.full_name, m.old_id_number or "", m.relation_to_head or "")
        console.print(members)


def _print_history(history: list[ChangeView]) -> None:
    table = Table(title="history")
    for column in ("v", "recorded_at", "kind", "actor", "source", "reason", "changes"):
        table.add_column(column)
    for c in history:
        changes = json.dumps(c.changes, ensure_ascii=False) if c.changes else ""
        table.add_row(
            str(c.version),
            c.recorded_at.isoformat(timespec="seconds"),
            c.kind,
            c.actor,
            c.source,
            c.reason or "",
            changes,
        )
    console.print(table)


@app.command()
def show(
    personal_id: str,
    as_of: Annotated[datetime | None, typer.Option("--as-of", help="ISO timestamp")] = None,
    actor: str | None = READER,
    purpose: str | None = PURPOSE,
) -> None:
    """Show a record with its household, now or as of a past time (logged first)."""
    database = get_database()
    with ledger_writer(database) as writer, database.sessions.begin() as session:
        read = disclosure.read_resident(session, operator_reads.cli_reader(actor, purpose), writer.append,
                                        queries.checked_id(personal_id), as_of)
    _print_record(read.answer)


@app.command()
def history(personal_id: str, actor: str | None = READER, purpose: str | None = PURPOSE) -> None:
    """Show every change to a record (logged first)."""
    database = get_database()
    with ledger_writer(database) as writer, database.sessions.begin() as session:
        read = disclosure.resident_history(session, operator_reads.cli_reader(actor, purpose), writer.append,
                                           queries.checked_id(personal_id))
    _print_history(read.answer)


@app.command()
def search(
    name: str | None = typer.Option(None),
    dob: str | None = typer.Option(None),
    province: str | None = typer.Option(None),
    commune: str | None = typer.Option(None),
    limit: int = typer.Option(20, max=100),
    actor: str | None = READER,
    purpose: str | None = PURPOSE,
) -> None:
    """Search by name (with or without diacritics), date of birth, place (results logged first)."""
    database = get_database()
    with ledger_writer(database) as writer, database.sessions.begin() as session:
        page = disclosure.search_residents(
            session, operator_reads.cli_reader(actor, purpose), writer.append, name=name, dob=dob, province=province,
            commune=commune, limit=limit
        ).answer
    table = Table(title=f"{len(page.items)} result(s)" + (" — more available" if page.has_more else ""))
    for column in ("personal_id", "full_name", "date_of_birth", "sex", "province", "commune", "score"):
        table.add_column(column)
    for h in page.items:
        table.add_row(
            h.personal_id,
            h.full_name,
            h.date_of_birth,
            h.sex,
            h.permanent_province or "",
            h.permanent_commune or "",
            f"{h.score:.2f}",
        )
    console.print(table)


@app.command()
def create(
    json_file: Annotated[Path, typer.Option("--json", exists=True, dir_okay=False)], actor: str = ACTOR
) -> None:
    """Create a record from a JSON file (the body of POST /registry/residents)."""
    body = _parsed(ResidentCreate, json.loads(json_file.read_text(encoding="utf-8")))
    with get_database().sessions.begin() as session:
        ctx = service.Context(session, actor=actor, source=body.source, reason=body.reason)
        _print_record(service.create_resident(ctx, body))


def _assignment(text: str) -> tuple[str, Any]:
    field, sep, raw = text.partition("=")
    if not sep:
        raise typer.BadParameter(f"expected field=value, got {text!r}")
    try:
        value = json.loads(raw) if raw[:1] in ("[", "{") or raw == "null" else raw
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"{field}: {error}") from None
    return field.strip(), value


@app.command()
def correct(
    personal_id: str,
    assignments: Annotated[list[str], typer.Option("--set", help="field=value (repeat)")],
    reason: str = typer.Option(...),
    source: str = typer.Option("operator"),
    expected_version: int | None = typer.Option(None, help="Default: the version read now."),
    actor: str = ACTOR,
) -> None:
    """Correct fields of a record (đính chính)."""
    changes = dict(_assignment(a) for a in assignments)
    with get_database().sessions.begin() as session:
        version = (
            expected_version
            or queries.read_resident(session, queries.checked_id(personal_id)).resident.version
        )
        body = _parsed(
            CorrectionRequest,
            {"changes": changes, "expected_version": version, "reason": reason, "source": source},
        )
        ctx = service.Context(session, actor=actor, source=source, reason=reason)
        _print_record(service.correct_resident(ctx, personal_id, body))


@app.command()
def death(
    personal_id: str,
    date: str = typer.Option(..., help="YYYY, YYYY-MM or YYYY-MM-DD"),
    kind: str = typer.Option("dead", help="dead | missing"),
    reason: str | None = typer.Option(None),
    source: str = typer.Option("operator"),
    actor: str = ACTOR,
) -> None:
    """Record a death or a disappearance."""
    body = _parsed(DeathRequest, {"date": date, "kind": kind, "reason": reason, "source": source})
    with get_database().sessions.begin() as session:
        ctx = service.Context(session, actor=actor, source=source, reason=reason)
        _print_record(service.record_death(ctx, queries.checked_id(personal_id), body))


@app.command()
def move(
    personal_id: str,
    permanent: str | None = typer.Option(None, help="province[,commune[,address]]"),
    temporary: str | None = typer.Option(None, help="province[,commune[,address]]"),
    current: str | None = typer.Option(None, help="province[,commune[,address]]"),
    household_id: int | None = typer.Option(None),
    new_household: bool = typer.Option(False),
    relation_to_head: str | None = typer.Option(None),
    reason: str | None = typer.Option(None),
    source: str = typer.Option("operator"),
    actor: str = ACTOR,
) -> None:
    """Change residence and, optionally, household."""
    places = {
        kind: _residence(value)
        for kind, value in (("permanent", permanent), ("temporary", temporary), ("current", current))
        if value
    }
    body = _parsed(
        MoveRequest,
        {
            **places,
            "household_id": household_id,
            "new_household": new_household,
            "relation_to_head": relation_to_head,
            "reason": reason,
            "source": source,
        },
    )
    with get_database().sessions.begin() as session:
        ctx = service.Context(session, actor=actor, source=source, reason=reason)
        _print_record(service.move_resident(ctx, queries.checked_id(personal_id), body))


def _residence(text: str) -> dict[str, Any]:
    province, commune, address = ([*text.split(",", 2), None, None])[:3]
    return Residence.model_validate(
        {
            "province": province.strip() if province else province,
            "commune": commune or None,
            "address": address or None,
        }
    ).model_dump()
