"""``dancu citizen ...``: the citizen channels from the operator's side."""

from __future__ import annotations

import signal

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from dancu.citizen.clock import system_clock
from dancu.citizen.corrections.cli import corrections
from dancu.citizen.housekeeping import sweep
from dancu.citizen.models import OutboxMessage
from dancu.citizen.settings import get_citizen_settings
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


@app.command("housekeeping")
def housekeeping_command() -> None:
    """Delete expired portal sessions, spent or expired one-time codes and closed SMS rate windows.

    Run it from a timer (systemd, cron) every few minutes."""
    with get_database().sessions.begin() as session:
        swept = sweep(session, get_citizen_settings(), system_clock())
    console.print(f"sessions {swept.sessions}, codes {swept.codes}, rate windows {swept.rate_windows} deleted")


@app.command("smpp")
def smpp_command() -> None:
    """Bind as an ESME to the SMSC (DANCU_CITIZEN_SMPP_*) and answer SMS look-ups until SIGTERM/SIGINT.

    Reconnects with backoff when the session is lost; sends enquire_link keep-alives; unbinds on stop."""
    import psycopg

    from dancu.citizen.sms.runner import SmppRunner
    from dancu.db.engine import libpq_url
    from dancu.ledger.writer import LedgerWriter

    database = get_database()
    url = libpq_url(database.url)
    with LedgerWriter(lambda: psycopg.connect(url)) as writer:
        runner = SmppRunner(database, writer, get_citizen_settings())
        signal.signal(signal.SIGTERM, runner.stop)
        signal.signal(signal.SIGINT, runner.stop)
        runner.run()
