"""The root ``agentgo`` command. Keep imports here light: ``agentgo --help`` must start fast."""

from __future__ import annotations

import sys

import typer

from agentgo_cli import __version__
from agentgo_cli.cli import (
    call,
    catalog,
    completion,
    init,
    jobs,
    models,
    plan,
    run,
    schema,
    serve,
    validate,
    worker,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="agentgo",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agentgo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    profile: str = typer.Option(
        None,
        "--profile",
        "-p",
        envvar="AGENTGO_PROFILE",
        help="Config profile to use (default: 'profile:' in agentgo.yaml).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run teams of AI agents from declarative YAML manifests, durably.

    Exit codes: 0 ok, 1 invalid manifest or failed job, 2 usage or config error,
    3 not found, 4 denied; for call refusals also 5 invalid input, 6 rate limited,
    7 idempotency conflict, 8 invalid output.
    """
    ctx.obj = {"profile": profile}


validate.register(app)
run.register(app)
plan.register(app)
worker.register(app)
serve.register(app)
app.add_typer(jobs.app, name="jobs")
app.add_typer(models.app, name="models")
app.add_typer(catalog.app, name="catalog")
call.register(app)
init.register(app)
app.add_typer(schema.app, name="schema")
completion.register(app)


def main() -> None:
    """Entry point of the installed ``agentgo`` command."""
    _printable_streams()
    app(prog_name="agentgo")


def _printable_streams() -> None:
    """Print a lone surrogate (a value can hold one: a model's JSON reply ``"\\ud800"``)
    as its escape ``\\ud800`` instead of failing: in JSON output that is the string's own
    JSON escape, so ``-o json`` reads back exactly; in text it shows where it is."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and stream.errors in ("strict", "surrogateescape"):
            reconfigure(errors="backslashreplace")
