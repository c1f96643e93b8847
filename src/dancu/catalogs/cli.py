"""``dancu catalogs``: load, list and show the shared catalogues."""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console
from rich.table import Table

from dancu.catalogs import service
from dancu.db import get_database

app = typer.Typer(help="Shared catalogues (danh mục dùng chung).", no_args_is_help=True)
console = Console()


@app.command("load")
def load() -> None:
    """Load the packaged data files; a changed file becomes a new version."""
    with get_database().sessions.begin() as session:
        report = service.load_packaged_catalogs(session)
    table = Table("name", "kind", "status", "version", "added", "changed", "expired")
    for c in report.changes:
        style = "green" if c.status in ("created", "updated") else "dim"
        table.add_row(
            c.name, c.kind, f"[{style}]{c.status}[/]", c.version or "", str(c.added), str(c.changed), str(c.expired)
        )
    console.print(table)


@app.command("list")
def list_() -> None:
    """Catalogues and mappings with their current version."""
    with get_database().sessions.begin() as session:
        catalogs, mappings = service.list_catalogs(session), service.list_mappings(session)
    table = Table("name", "version", "entries", "loaded at", "source")
    for c in catalogs:
        table.add_row(c.name, c.version, str(c.entry_count), f"{c.loaded_at:%Y-%m-%d %H:%M}", c.source)
    for m in mappings:
        table.add_row(m.name, m.version, str(m.pair_count), f"{m.loaded_at:%Y-%m-%d %H:%M}", m.source)
    console.print(table)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Catalogue name, e.g. province"),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD (default today)"),
) -> None:
    """Entries of catalogue NAME valid on a date."""
    try:
        on = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"not a date: {as_of}", param_hint="--as-of") from None
    with get_database().sessions.begin() as session:
        result = service.catalog(session, name, on)
    table = Table(
        "code",
        "name_vi",
        "name_en",
        "parent",
        "valid_from",
        "valid_to",
        title=f"{result.name} {result.version} — {result.as_of}",
    )
    for e in result.entries:
        table.add_row(e.code, e.name_vi, e.name_en or "", e.parent_code or "", str(e.valid_from), str(e.valid_to or ""))
    console.print(table)
