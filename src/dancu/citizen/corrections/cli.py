"""``dancu citizen corrections list|answer``: the database manager's queue from the command line.

``list`` shows the requesters' data: it writes its exchange-log entries (client system ``operator:cli``, end
user ``--actor``, default the login name) before it prints anything.  ``answer`` prints only the request's
number and status: no requester's data, no entry.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from dancu.citizen.corrections import disclosure, service
from dancu.citizen.corrections.schemas import CorrectionAnswer
from dancu.db import get_database
from dancu.ledger import operator_reads
from dancu.ledger.operator_reads import ledger_writer as ledger_writer  # tests replace it

corrections = typer.Typer(help="Yêu cầu điều chỉnh — correction requests.", no_args_is_help=True)
console = Console()


@corrections.command("list")
def list_command(status: str = typer.Option("open", help="open, accepted, rejected or all"),
                 limit: int = typer.Option(100),
                 actor: str | None = typer.Option(None, "--actor", help=operator_reads.ACTOR_HELP),
                 purpose: str | None = typer.Option(
                     None, "--purpose", help=operator_reads.purpose_help(disclosure.DEFAULT_PURPOSE))) -> None:
    """The queue, oldest first (logged first)."""
    database = get_database()
    reader = operator_reads.cli_reader(actor, purpose, disclosure.DEFAULT_PURPOSE)
    with ledger_writer(database) as writer, database.sessions.begin() as session:
        rows = disclosure.list_requests(session, reader, writer.append, None if status == "all" else status, None,
                                        limit).answer
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
