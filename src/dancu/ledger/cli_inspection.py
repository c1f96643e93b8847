"""``dancu log search | export | report | flags | access``: inspection from the command line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dancu.db import get_database
from dancu.ledger import inspection
from dancu.ledger.inspection_repository import SearchFilter

console = Console()


def _filter(
    client_system: str | None,
    organisation: str | None,
    personal_id: str | None,
    service: str | None,
    purpose: str | None,
    result: str | None,
    error_code: str | None,
    since: datetime | None,
    until: datetime | None,
) -> SearchFilter:
    return SearchFilter(client_system, organisation, personal_id, service, purpose, result, error_code, since, until)


def search(
    client_system: str = typer.Option(None, "--system"),
    organisation: str = typer.Option(None, "--org", help="INSTANCE/CLASS/CODE"),
    personal_id: str = typer.Option(None, "--resident"),
    service: str = typer.Option(None),
    purpose: str = typer.Option(None),
    result: str = typer.Option(None),
    error_code: str = typer.Option(None, "--error"),
    since: Annotated[datetime | None, typer.Option()] = None,
    until: Annotated[datetime | None, typer.Option()] = None,
    limit: int = typer.Option(50),
    before: int = typer.Option(None),
) -> None:
    """Search the log, newest first (inspectors)."""
    where = _filter(client_system, organisation, personal_id, service, purpose, result, error_code, since, until)
    with get_database().sessions() as session:
        page = inspection.search(session, where, limit, before)
    table = Table("seq", "recorded_at", "system", "service", "purpose", "residents", "fields", "result", "error")
    for e in page.items:
        table.add_row(
            str(e.seq),
            e.recorded_at.isoformat(),
            e.client_system,
            e.service,
            e.purpose,
            " ".join(e.personal_ids),
            " ".join(e.fields_disclosed),
            e.result,
            e.error_code or "",
        )
    console.print(table)
    if page.next_before is not None:
        console.print(f"more: --before {page.next_before}")


def export(
    csv_file: Annotated[Path, typer.Option("--csv")],
    client_system: str = typer.Option(None, "--system"),
    organisation: str = typer.Option(None, "--org"),
    personal_id: str = typer.Option(None, "--resident"),
    service: str = typer.Option(None),
    purpose: str = typer.Option(None),
    result: str = typer.Option(None),
    error_code: str = typer.Option(None, "--error"),
    since: Annotated[datetime | None, typer.Option()] = None,
    until: Annotated[datetime | None, typer.Option()] = None,
) -> None:
    """Write the matching entries to a CSV file (UTF-8)."""
    where = _filter(client_system, organisation, personal_id, service, purpose, result, error_code, since, until)
    with get_database().sessions() as session, csv_file.open("w", encoding="utf-8", newline="") as out:
        for chunk in inspection.csv_lines(session, where):
            out.write(chunk)
    console.print(f"written {csv_file}")


def report(
    system: str,
    first: Annotated[datetime | None, typer.Option("--from")] = None,
    last: Annotated[datetime | None, typer.Option("--to")] = None,
) -> None:
    """Per-system report as JSON: volume per day, denials, fields disclosed, purposes, services."""
    with get_database().sessions() as session:
        out = inspection.system_report(session, system, first.date() if first else None, last.date() if last else None)
    typer.echo(out.model_dump_json(indent=2))


def flags(day: Annotated[datetime | None, typer.Option("--date")] = None) -> None:
    """Possible misuse on one day (default today), each with its explanation."""
    with get_database().sessions() as session:
        found = inspection.misuse_flags(session, day.date() if day else inspection.vietnam_today())
    table = Table("system", "day", "flag", "explanation", title=f"{len(found)} flag(s)")
    for f in found:
        table.add_row(f.system, str(f.day), f.kind, f.explanation)
    console.print(table)


def access(personal_id: str, limit: int = typer.Option(50), before: int = typer.Option(None)) -> None:
    """Who used this resident's data, when, why and which fields (newest first)."""
    with get_database().sessions() as session:
        page = inspection.access_history(session, personal_id, limit, before)
    typer.echo(page.model_dump_json(indent=2))


def register(app: typer.Typer) -> None:
    for command in (search, export, report, flags, access):
        app.command()(command)
