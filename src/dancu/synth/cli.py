"""STUB — replaced by this capability's CLI."""
import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def todo() -> None:
    """Not built yet."""
