"""``dancu log archive | verify-archive | prune``: retention of the exchange log."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from dancu.config import get_settings
from dancu.db import get_database
from dancu.ledger import archive as retention
from dancu.ledger import archive_file
from dancu.ledger.signing import load_signer

console = Console()
Directory = Annotated[Path | None, typer.Option("--dir", help="Archive folder (default DANCU_LEDGER_ARCHIVE_DIR "
                                                "or data_dir/ledger-archive)")]


def _directory(option: Path | None) -> Path:
    return option or retention.RetentionSettings().archive_dir or get_settings().data_dir / "ledger-archive"


def _public_key(option: str | None) -> bytes:
    return base64.b64decode(option) if option else load_signer(get_settings()).public_key


def archive(before: Annotated[datetime, typer.Option(formats=["%Y-%m"], help="YYYY-MM: archive months before it")],
            directory: Directory = None) -> None:
    """Write each closed month before BEFORE to a signed, verifiable archive file."""
    with get_database().sessions.begin() as session:
        done = retention.archive(session, load_signer(get_settings()), _directory(directory), before.date())
    for item in done:
        console.print(f"{item.month:%Y-%m}: seq {item.first_seq}..{item.end_seq - 1} -> {item.path}")
    if not done:
        console.print("nothing to archive")


def verify_archive(files: list[Path], public_key: Annotated[str | None, typer.Option()] = None) -> None:
    """Verify archive files offline; given in order, also check the chain between them."""
    key, previous, failed = _public_key(public_key), None, False
    for path in files:
        check = archive_file.verify(path, key, previous)
        console.print(f"{path}: seq {check.first_seq}..{check.end_seq - 1}: "
                      + ("[bold green]OK[/]" if check.ok else "[bold red]FAILED[/]"))
        for finding in check.findings:
            console.print(f"  - {finding}")
        failed |= not check.ok
        previous = check.end_link
    if failed:
        raise typer.Exit(1)


def prune(retention_years: Annotated[int | None, typer.Option(help="Default DANCU_LEDGER_RETENTION_YEARS (5)")]
          = None, directory: Directory = None, public_key: Annotated[str | None, typer.Option()] = None) -> None:
    """Drop partitions past retention, only once their archive verifies; verify continues from the prune point."""
    years = retention_years if retention_years is not None else retention.RetentionSettings().retention_years
    with get_database().sessions.begin() as session:
        done = retention.prune(session, _directory(directory), _public_key(public_key), years)
    for item in done:
        console.print(f"dropped {item.month:%Y-%m} (seq {item.first_seq}..{item.end_seq - 1}), archived in {item.path}")
    if not done:
        console.print("nothing past retention is archived")


def register(app: typer.Typer) -> None:
    commands: list[tuple[str, Any]] = [("archive", archive), ("verify-archive", verify_archive), ("prune", prune)]
    for name, command in commands:
        app.command(name)(command)
