"""agentgo validate: check manifests against their schemas and against each other."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from agentgo_cli.cli._output import handle_errors, print_view, with_backend
from agentgo_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from agentgo_cli.backend.views import ManifestErrorView, ValidationReport

__all__ = ["register"]


class ValidateFormat(StrEnum):
    """Output of agentgo validate."""

    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


def _summary(report: ValidationReport) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in report.manifests.items()) or "no manifests"
    files = report.files
    err = len(report.errors)
    state = "valid" if not err else "invalid"
    return f"{state}: {files} file{'s' * (files != 1)}, {kinds}; {err} error{'s' * (err != 1)}"


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _located(e: ManifestErrorView) -> str:
    """An error as ``file:line:col: path: message`` (ManifestError's own text)."""
    where = f"{e.file}:{e.line}:{e.col}: "
    return f"{where}{e.path}: {e.message}" if e.path else f"{where}{e.message}"


def _render(report: ValidationReport, fmt: ValidateFormat) -> None:
    if fmt is ValidateFormat.json:
        print_view(report)
        return
    if fmt is ValidateFormat.junit:  # stdout is the XML alone, to redirect into a file
        from agentgo_cli.cli._junit import junit_xml

        typer.echo(junit_xml(report), nl=False)
        typer.echo(_summary(report), err=True)
        return
    for e in report.errors:
        if fmt is ValidateFormat.github:
            body = f"{e.path}: {e.message}" if e.path else e.message
            typer.echo(
                f"::error file={_gh_escape(e.file, True)},line={e.line},col={e.col},"
                f"title=agentgo validate::{_gh_escape(body)}"
            )
        else:
            typer.echo(_located(e))
    summary = _summary(report)
    if fmt is ValidateFormat.github:
        typer.echo(summary)
    else:
        typer.secho(summary, fg="green" if report.valid else "red")


def register(app: typer.Typer) -> None:
    """Add the validate command to the root app."""

    @app.command()
    @handle_errors
    def validate(
        ctx: typer.Context,
        paths: list[str] = typer.Argument(
            None,
            help="Manifest files or folders (read recursively), validated together with the "
            "active profile's 'manifests:' paths, as run sees them (the manifest set). No PATH: "
            "the profile's paths alone.",
            show_default=False,
        ),
        output: ValidateFormat = typer.Option(
            ValidateFormat.text,
            "--output",
            "-o",
            help="text, json, github (workflow-command annotations for CI) or junit (a "
            "JUnit XML report on stdout: a testcase per file, a failure per error).",
        ),
    ) -> None:
        """Validate manifests against their schemas and against each other.

        The python tools' entrypoints are imported, in a child process, from the project root
        (the folder of agentgo.yaml, else the manifest's): a module's top-level code runs.

        Exit 0 when all are valid, 1 when any is invalid, 2 for a usage error or a broken
        config file (its errors are listed with the others).
        """
        import gc

        from agentgo_cli.backend.views import ValidateRequest

        # A short-lived process that builds many small objects: full collections would walk
        # them again and again for nothing (about 15% of a large validate).
        gc.set_threshold(100_000, 50, 100)

        request = ValidateRequest(paths=paths or [])
        report = with_backend(ctx, lambda b: b.validate(request), lenient=True)
        _render(report, output)
        if report.config_errors:
            raise typer.Exit(EXIT_USAGE)
        raise typer.Exit(EXIT_OK if report.valid else EXIT_FAILED)
