"""``dancu citizen corrections list|answer``: the database manager's queue from the command line."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from dancu.citizen.corrections import service
from dancu.citizen.corrections.schemas import CorrectionAnswer
from dancu.db import get_database

corrections = typer.Typer(help="Yêu cầu điều chỉnh — correction requests.", no_args_is_help=True)
console = Console()


@corrections.command("list")
def list_command(status: str = typer.Option("open", help="open, accepted, rejected or all"),
                 limit: int = typer.Option(100)) -> None:
    """The queue, oldest first."""
    with get_database().sessions.begin() as session:
        rows = service.list_requests(session, None if status == "all" else status, None, limit)
    table = Table("id", "personal_id", "field", "current", "requested", "reason", "status")
    for r in rows:
        table.add_row(str(r.request_id), r.personal_id, r.field, r.current_value or "", r.requested_value, r.reason,
                      r.status)
    console.print(table)


@corrections.command("answer")
def answer_command(request_id: int, status: str = typer.Option(..., help="accepted or rejected"),
                   text: str = typer.Option(..., "--text", help="The answer the citizen sees."),
                   actor: str = typer.Option("operator", "--actor")) -> None:
    """Accept or reject a request, with an answer."""
    body = CorrectionAnswer.model_validate({"status": status, "answer": text})
    with get_database().sessions.begin() as session:
        view = service.answer_request(session, request_id, body, actor)
    console.print(f"request {view.request_id}: {view.status}")
