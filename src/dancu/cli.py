"""The ``dancu`` command: operators' entry point (database, catalogues, registry, synthetic data, server)."""

from __future__ import annotations

import logging
import os

import typer
from rich.console import Console

from dancu.agencies.cli import app as agencies_app
from dancu.catalogs.cli import app as catalogs_app
from dancu.citizen.cli import app as citizen_app
from dancu.config import get_settings
from dancu.db import get_database
from dancu.db import migrate as migrations
from dancu.errors import DancuError
from dancu.kit.logs import configure_logging
from dancu.ledger.cli import app as ledger_app
from dancu.operators.cli import app as operators_app
from dancu.registry.cli import app as registry_app
from dancu.sync.cli import app as sync_app
from dancu.synth.cli import app as synth_app

app = typer.Typer(help="dancu — Cơ sở dữ liệu quốc gia về dân cư / national population database.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(agencies_app, name="agencies")
app.add_typer(catalogs_app, name="catalogs")
app.add_typer(citizen_app, name="citizen")
app.add_typer(registry_app, name="registry")
app.add_typer(synth_app, name="synth")
app.add_typer(sync_app, name="sync")
app.add_typer(ledger_app, name="log")
app.add_typer(operators_app, name="operators")
console = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrations.upgrade(get_database().url, revision)
    console.print(f"[green]database at {migrations.current_revision(get_database().engine)}[/]")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    typer.echo(migrations.current_revision(get_database().engine) or "empty")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL in use (starting the embedded server if needed)."""
    typer.echo(get_database().url)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Listen address (default DANCU_HOST, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default DANCU_PORT, 8000)."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    from dancu.server import run

    settings = get_settings()
    run(host or settings.host, port or settings.port, workers)


@app.command()
def up(
    residents: int = typer.Option(20_000, help="Synthetic residents to load when the registry is empty."),
    seed: int = typer.Option(2026, help="Seed of the synthetic population."),
    host: str | None = typer.Option(None),
    port: int | None = typer.Option(None),
) -> None:
    """Everything a newcomer needs: database, migrations, catalogues, a synthetic population with its
    matching-key index, the API; the portal's one-time codes go to the demo outbox (no SMS centre here)."""
    from dancu.catalogs.service import load_packaged_catalogs
    from dancu.sync.matching import index
    from dancu.synth.loader import ensure_population

    database = get_database()
    migrations.upgrade(database.url)
    with database.sessions.begin() as session:
        load_packaged_catalogs(session)
    ensure_population(database, residents, seed)
    with database.raw_connection() as conn:
        index.build(conn)  # once: demographic matching for `dancu sync run` (resumable, a second for 20,000)
    # A laptop has no SMS centre: codes wait in the outbox, `dancu citizen outbox` shows them.
    os.environ.setdefault("DANCU_CITIZEN_SMS_DELIVERY", "outbox")
    settings = get_settings()
    console.print(f"[bold green]dancu[/] serving on http://{host or settings.host}:{port or settings.port}"
                  " — API docs at /docs; portal codes: dancu citizen outbox")
    serve(host=host, port=port, workers=1)


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    logging.captureWarnings(True)
    try:
        app()
    except DancuError as error:
        console.print(f"[red]{error.code}[/]: {error.detail_vi}\n  {error.detail_en}")
        raise SystemExit(2) from None
