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
    """The latest texts of the SMS outbox, newest first: when, what, to whom, how (channel), status, attempts.

    A text is readable only while it waits (pending) or on the development/demo channel 'outbox'
    (DANCU_CITIZEN_SMS_DELIVERY=outbox: never sent, one-time codes shown here); once sent, failed or expired
    it is blanked."""
    with get_database().sessions.begin() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.message_id.desc()).limit(limit)).all()
        table = Table("created", "kind", "to", "channel", "status", "attempts", "sent", "text")
        for row in rows:
            table.add_row(row.created_at.isoformat(timespec="seconds"), row.kind, row.to_number, row.channel,
                          row.status, str(row.attempts), row.sent_at.isoformat(timespec="seconds") if row.sent_at
                          else "", row.text if row.text is not None else "—")
    console.print(table)


@app.command("housekeeping")
def housekeeping_command() -> None:
    """Delete expired portal sessions, spent or expired one-time codes and closed SMS rate windows.

    Run it from a timer (systemd, cron) every few minutes."""
    with get_database().sessions.begin() as session:
        swept = sweep(session, get_citizen_settings(), system_clock())
    console.print(f"sessions {swept.sessions}, codes {swept.codes}, rate windows {swept.rate_windows}, inbound keys "
                  f"{swept.inbound_keys} deleted; {swept.texts_expired} unsent texts expired")


@app.command("smpp")
def smpp_command() -> None:
    """Bind as an ESME to the SMSC (DANCU_CITIZEN_SMPP_*), answer SMS look-ups and send the SMS outbox's texts
    of channel smpp (the portal's one-time codes) until SIGTERM/SIGINT.

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


@app.command("deliver")
def deliver_command() -> None:
    """Send the SMS outbox's texts of channel http to the aggregator (DANCU_CITIZEN_SMS_HTTP_URL, signed with
    DANCU_CITIZEN_SMS_HTTP_SECRET) until SIGTERM/SIGINT; retries with backoff.  (Channel smpp is sent by
    ``dancu citizen smpp``.)"""
    import threading

    from dancu.citizen.delivery.http import HttpChannel

    stop = threading.Event()
    channel = HttpChannel(get_database(), get_citizen_settings())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        channel.run(stop)
    finally:
        channel.close()
