"""``dancu citizen ...``: the citizen channels from the operator's side."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from dancu.citizen.corrections.cli import corrections
from dancu.citizen.models import OutboxMessage
from dancu.db import get_database

app = typer.Typer(help="Công dân — citizen channels.", no_args_is_help=True)
app.add_typer(corrections, name="corrections")
console = Console()


@app.command("outbox")
def outbox_command(limit: int = typer.Option(10, help="How many of the latest messages.")) -> None:
    """SMS messages the development outbox provider 'sent' (one-time codes in a demo), newest first."""
    with get_database().sessions.begin() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.message_id.desc()).limit(limit)).all()
        table = Table("sent at", "to", "text")
        for row in rows:
            table.add_row(row.sent_at.isoformat(timespec="seconds"), row.to_number, row.text)
    console.print(table)
