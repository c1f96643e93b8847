"""``dancu synth``: load a deterministic synthetic population."""

from __future__ import annotations

import typer
from rich.console import Console

from dancu.db import get_database
from dancu.synth.loader import DEFAULT_CHUNK_SIZE, load_population

app = typer.Typer(help="Synthetic population (dân cư giả lập) for development and benchmarks.",
                  invoke_without_command=True)
console = Console(stderr=True)


@app.callback()
def synth(
    residents: int = typer.Option(20_000, "--residents", "-n", min=1, help="How many residents."),
    seed: int = typer.Option(2026, help="Seed: the same seed gives the same people."),
    chunk_size: int = typer.Option(DEFAULT_CHUNK_SIZE, min=1, help="Residents per transaction (new jobs only)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Load N synthetic residents (resumes an interrupted load of the same N and seed; a rerun loads nothing)."""
    result = load_population(get_database(), residents, seed, progress=progress, chunk_size=chunk_size)
    if result.already_done:
        console.print(f"[yellow]{result.job_key}[/] already loaded; nothing to do")
        return
    rate = result.residents / result.seconds if result.seconds else 0.0
    console.print(f"[green]loaded {result.residents:,} residents[/] in {result.chunks} chunks "
                  f"({result.seconds:.1f} s, {rate:,.0f}/s) — job {result.job_key}")
