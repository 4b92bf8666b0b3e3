"""agentgo init: write a small working project."""

from __future__ import annotations

from pathlib import Path

import typer

from agentgo_cli.cli._output import handle_errors, writing

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the init command to the root app."""

    @app.command()
    @handle_errors
    def init(
        folder: Path = typer.Argument(Path("."), help="Folder to create the project in."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    ) -> None:
        """Write a starter project: agentgo.yaml, an agent and a workflow (offline model)."""
        from agentgo_cli.scaffold import init_project

        with writing(folder):
            written = init_project(folder, force=force)
        for path in written:
            typer.echo(f"wrote {path}")
        where = "" if folder == Path(".") else f"cd {folder} && "
        typer.echo(f"next: {where}agentgo validate")
