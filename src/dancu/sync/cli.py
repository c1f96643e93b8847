"""``dancu sync …``: sources, runs, reports and the review queue; one transaction per command (a run: per chunk).

``review list`` shows residents' data: it writes its exchange-log entries (client system ``operator:cli``, end
user ``--actor``, default the login name) before it prints anything.  ``review accept`` and ``review reject``
print only the item's id, state, reviewer and note: no resident's data, no entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dancu.db import get_database
from dancu.ledger import operator_reads
from dancu.ledger.operator_reads import ledger_writer as ledger_writer  # tests replace it
from dancu.sync import disclosure, flows, jobs, service, sources
from dancu.sync.schemas import JobReport, ReviewItem

app = typer.Typer(help="Đồng bộ dữ liệu chuyên ngành — sector synchronisation.", no_args_is_help=True)
review_app = typer.Typer(help="Hàng chờ duyệt — the review queue.", no_args_is_help=True)
app.add_typer(review_app, name="review")
console = Console()
SOURCE_ARG = typer.Argument(..., help="Source code (see `dancu sync sources`).")
FILE_ARG = typer.Argument(..., exists=True, dir_okay=False, help="CSV, JSON Lines or Parquet file.")
SOURCES = typer.Option(None, "--sources", help="TOML file declaring more sources ([[source]] tables).")
ACTOR = typer.Option("operator", "--actor", help="Who is acting (recorded in the history).")


@app.command("sources")
def list_sources(extra: Path | None = SOURCES) -> None:
    """List the declared sector sources and their column mappings."""
    table = Table(title="sector sources")
    for column in ("code", "name", "sector id → sector key", "columns"):
        table.add_column(column)
    for s in sources.all_sources(extra).values():
        mapping = ", ".join(f"{column}→{field}" for field, column in s.columns.items())
        table.add_row(s.code, s.name, f"{s.identifier_column} → {s.sector_key}", mapping)
    console.print(table)


@app.command("run")
def run(
    source: str = SOURCE_ARG,
    file: Path = FILE_ARG,
    chunk_size: int = typer.Option(jobs.DEFAULT_CHUNK_SIZE, min=1, max=10_000_000,
                                   help="Lines (≈ records) per transaction."),
    workers: int = typer.Option(jobs.DEFAULT_WORKERS, min=1, max=16,
                                help="Chunks stored at once, each on its own database connection."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    match: bool = typer.Option(True, help="Then match demographically what the ID did not place (stage b)."),
    extra: Path | None = SOURCES,
    chunk_delay: float = typer.Option(0.0, min=0.0, max=60.0, hidden=True,
                                      help="Seconds to sleep after each committed chunk (crash tests)."),
) -> None:
    """Synchronise FILE from SOURCE: by personal ID, then demographically (stage b) what the ID did not place;
    resumes an interrupted run of the same file, does nothing for a finished one."""
    done = flows.synchronise(get_database(), sources.get(source, extra), file, match=match, chunk_size=chunk_size,
                             workers=workers, progress=progress, chunk_delay=chunk_delay)
    result = done.stage_a
    if result.already_done:
        console.print(f"[yellow]job {result.job_id}[/] stage (a) already done for this file")
    console.print(f"stage (b): {done.stage_b_state}" + (f" — {done.stage_b}" if done.stage_b else ""))
    with get_database().sessions() as session:
        _print_report(service.job_report(session, result.job_id))


@app.command("report")
def report(job_id: int = typer.Argument(..., help="Job id.")) -> None:
    """Counts per outcome and reason, time and records/s of a job."""
    with get_database().sessions() as session:
        _print_report(service.job_report(session, job_id))


@review_app.command("list")
def review_list(
    job: int | None = typer.Option(None, help="Only this job."),
    source: str | None = typer.Option(None, help="Only this source."),
    reason: str | None = typer.Option(None, help="Only records with this reason code."),
    state: str = typer.Option("open", help="open, accepted or rejected."),
    limit: int = typer.Option(20, min=1, max=100),
    offset: int = typer.Option(0, min=0),
    actor: str | None = typer.Option(None, "--actor", help=operator_reads.ACTOR_HELP),
    purpose: str | None = typer.Option(None, "--purpose", help=operator_reads.purpose_help(disclosure.DEFAULT_PURPOSE)),
) -> None:
    """Records waiting for a decision (logged first)."""
    database = get_database()
    reader = operator_reads.cli_reader(actor, purpose, disclosure.DEFAULT_PURPOSE)
    with ledger_writer(database) as writer, database.sessions.begin() as session:
        page = disclosure.list_reviews(session, reader, writer.append, job_id=job, source=source, reason=reason,
                                       state=state, limit=limit, offset=offset).answer
    table = Table(title=f"review ({state})" + (" — more…" if page.has_more else ""))
    for column in ("id", "source", "resident", "value", "reasons", "detail"):
        table.add_column(column)
    for item in page.items:
        table.add_row(item.id, item.source, str(item.resident_id or ""), item.sector_value or "",
                      ", ".join(item.reasons), json.dumps(item.detail, ensure_ascii=False))
    console.print(table)


@review_app.command("accept")
def review_accept(item_id: str, note: str | None = typer.Option(None), actor: str = ACTOR) -> None:
    """Apply the record's sector identifier to the resident (with history)."""
    with get_database().sessions.begin() as session:
        _print_item(service.accept(session, item_id, actor=actor, note=note))


@review_app.command("reject")
def review_reject(item_id: str, note: str | None = typer.Option(None), actor: str = ACTOR) -> None:
    """Close the record without changing the resident."""
    with get_database().sessions.begin() as session:
        _print_item(service.reject(session, item_id, actor=actor, note=note))


def _print_item(item: ReviewItem) -> None:
    console.print(f"[green]{item.id}[/] {item.state} by {item.reviewed_by}" + (f" — {item.note}" if item.note else ""))


def _print_report(r: JobReport) -> None:
    table = Table(title=f"job {r.job_id} — {r.source} — {r.state}")
    table.add_column("")
    table.add_column("count", justify="right")
    for outcome, count in sorted(r.outcomes.items()):
        table.add_row(f"[bold]{outcome}[/]", f"{count:,}")
    for reason, count in sorted(r.reasons.items()):
        table.add_row(f"  {reason}", f"{count:,}")
    console.print(table)
    console.print(f"{r.records:,} records in {r.seconds:.1f} s = {r.records_per_second:,.0f}/s — file {r.file}")


# -- demographic matching (stage b): the blocking-key index, a job's stage (b), the per-source model -------------


@app.command("index-keys")
def index_keys(refresh: bool = typer.Option(False, help="Re-key only residents changed since the last build.")) -> None:
    """Build (resumable) the blocking keys of demographic matching; --refresh after registry writes."""
    from dancu.sync.matching import index

    with get_database().raw_connection() as conn:
        result = index.build(conn, refresh=refresh)
    console.print("already built" if result.already_done else
                  f"{result.keys:,} keys for {result.residents:,} residents in {result.seconds:.1f} s")


@app.command("match")
def match(job_id: int, extra: Path | None = SOURCES) -> None:
    """Run stage (b) — demographic matching — on a job's records whose ID is missing or failed (resumable)."""
    from dancu.sync.matching import repository as match_repo
    from dancu.sync.matching.stage_b import run_stage_b

    with get_database().raw_connection() as conn:
        params, _report = match_repo.job_params(conn.cursor(), job_id)
        counts = run_stage_b(conn, job_id, source=sources.get(params["source"], extra))
    console.print(f"job {job_id} stage (b): {counts}")


@app.command("weights")
def weights(source: str) -> None:
    """Show a source's demographic-matching model (m, u, weights in bits, thresholds) as JSON."""
    from dancu.sync.matching import repository as match_repo

    with get_database().raw_connection() as conn:
        model = match_repo.load_model(conn.cursor(), source)
    console.print_json(data=model or {"source": source, "model": "defaults (not trained yet)"})
