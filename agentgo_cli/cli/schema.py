"""agentgo schema: export and show the JSON Schemas of the manifest kinds."""

from __future__ import annotations

from pathlib import Path

import typer

from agentgo_cli.cli._output import handle_errors, writing

__all__ = ["app"]

app = typer.Typer(
    help="Export and show the JSON Schemas of the manifest kinds and of --output json.",
    no_args_is_help=True,
)


@app.command("export")
@handle_errors
def export(
    folder: Path = typer.Argument(Path("schemas"), help="Folder to write <kind>.schema.json into."),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 if a file differs from the models."
    ),
) -> None:
    """Write one JSON Schema per manifest kind (and the config file) into a folder, one
    per request and view of the backend (what --output json prints) into its api/ folder,
    and the OpenAPI document of agentgo serve's HTTP API as api/openapi.json."""
    from agentgo_cli.backend.api_schema import api_schema_names, api_schema_text, write_api_schemas
    from agentgo_cli.manifests.schema import SCHEMA_NAMES, export_schemas, schema_text
    from agentgo_cli.server.openapi import OPENAPI_FILE, server_document_text

    if check:
        wanted = {folder / f"{name}.schema.json": schema_text(name) for name in SCHEMA_NAMES}
        for name in api_schema_names():
            wanted[folder / "api" / f"{name}.schema.json"] = api_schema_text(name)
        wanted[folder / "api" / OPENAPI_FILE] = server_document_text()
        stale = [
            path
            for path, text in wanted.items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text
        ]
        for path in stale:
            typer.echo(f"{path}: out of date")
        if stale:
            typer.secho("run 'agentgo schema export' to update", fg="red", err=True)
            raise typer.Exit(1)
        typer.echo(f"{len(wanted)} schemas up to date in {folder}")
        return
    with writing(folder):
        written = [*export_schemas(folder), *write_api_schemas(folder / "api")]
        openapi = folder / "api" / OPENAPI_FILE
        openapi.write_text(server_document_text(), encoding="utf-8")
        written.append(openapi)
    for path in written:
        typer.echo(f"wrote {path}")


@app.command("show")
@handle_errors
def show(
    kind: str = typer.Argument(
        ..., help="agent, tool, capability, team, workflow or config (any case)."
    ),
) -> None:
    """Print the JSON Schema of a manifest kind."""
    from agentgo_cli.manifests.schema import schema_text

    typer.echo(schema_text(kind), nl=False)
