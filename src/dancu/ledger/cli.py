"""``dancu log``: verify the exchange log, publish and print tree heads, produce proofs."""

from __future__ import annotations

import base64
import json

import typer
from rich.console import Console
from rich.table import Table

from dancu.config import get_settings
from dancu.db import get_database
from dancu.ledger import cli_archive, cli_inspection, service
from dancu.ledger.schemas import TreeHeadOut
from dancu.ledger.signing import load_signer
from dancu.ledger.verify import Report, verify_log

app = typer.Typer(help="Exchange log (nhật ký chia sẻ): verify, tree heads, proofs.", no_args_is_help=True)
console = Console()


@app.command()
def verify(public_key: str = typer.Option(None, help="Base64 Ed25519 public key (default: the configured key).")
           ) -> None:
    """Recompute every leaf and signed root; name every altered, removed or reordered entry."""
    key = base64.b64decode(public_key) if public_key else load_signer(get_settings()).public_key
    database = get_database()
    with database.raw_connection() as conn, database.sessions() as session:
        report = verify_log(conn, session, key)
    _print(report)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: Report) -> None:
    console.print(f"{report.entries:,} entries, {report.heads} signed tree heads, {report.seconds:.1f} s")
    if report.pruned:
        console.print(f"seq 0..{report.pruned - 1} pruned: verified from the stored frontier; check their archives "
                      "with 'dancu log verify-archive'")
    if report.ok:
        console.print("[bold green]OK[/]: every entry and every signed root recomputes")
        return
    table = Table("seq", "finding", "detail", title=f"[bold red]{len(report.findings)} finding(s)[/]")
    for finding in report.findings:
        table.add_row("" if finding.seq is None else str(finding.seq), finding.kind, finding.detail)
    console.print(table)


@app.command()
def head() -> None:
    """Publish a signed tree head over every entry and print it as JSON (for an outside witness)."""
    with get_database().sessions.begin() as session:
        tree_head = service.publish_tree_head(session, load_signer(get_settings()))
    typer.echo(TreeHeadOut.of(tree_head).model_dump_json(indent=2))


@app.command("public-key")
def public_key() -> None:
    """Print the public key that verifies tree heads (base64, raw 32 bytes)."""
    typer.echo(base64.b64encode(load_signer(get_settings()).public_key).decode())


@app.command()
def prove(seq: int, size: int = typer.Option(None, help="Tree size (default: the latest head).")) -> None:
    """Inclusion proof of entry SEQ as JSON."""
    with get_database().sessions() as session:
        typer.echo(json.dumps(service.inclusion(session, seq, size), indent=2))


@app.command()
def consistency(first: int, second: int) -> None:
    """Consistency proof between tree sizes FIRST and SECOND as JSON."""
    with get_database().sessions() as session:
        typer.echo(json.dumps(service.consistency(session, first, second), indent=2))


cli_inspection.register(app)
cli_archive.register(app)
