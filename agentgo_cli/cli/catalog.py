"""agentgo catalog: list, show and export the capability catalog."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from agentgo_cli.cli._output import (
    check_output,
    handle_errors,
    print_json,
    print_view,
    with_backend,
    writing,
)
from agentgo_cli.cli.completion import complete_intent
from agentgo_cli.errors import UsageError

if TYPE_CHECKING:
    from agentgo_cli.backend.views import CatalogEntryView, IntentView

__all__ = ["app"]

app = typer.Typer(help="List, show and export the capability catalog.", no_args_is_help=True)

_PATHS_HELP = (
    "Manifest files or folders (read recursively). Default: the active profile's "
    "'manifests:' paths."
)
_FORMATS = ("a2a",)


@app.command("list")
@handle_errors
def list_intents(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(None, help=_PATHS_HELP, show_default=False),
    all_versions: bool = typer.Option(
        False, "--all-versions", help="Every version of each intent, not only the newest."
    ),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """List the intents of the catalog: one row per intent, newest version."""
    from agentgo_cli.backend.views import CatalogRequest

    check_output(output)
    request = CatalogRequest(paths=paths or [], all_versions=all_versions)
    entries = with_backend(ctx, lambda b: b.catalog(request))
    if output == "json":
        print_view(entries)
        return
    if not entries:
        typer.echo("no intents: add a Capability manifest or an Agent")
        return
    header = ("INTENT", "VERSION", "TARGET", "CLASS", "CARD")
    rows = [header] + [
        (e.name, e.version, e.target, e.classification, e.card or "synthetic") for e in entries
    ]
    descriptions = ["DESCRIPTION"] + [e.description for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    room = max(_columns() - sum(w + 2 for w in widths), 10)
    for row, description in zip(rows, descriptions, strict=True):
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        typer.echo("  ".join([*cells, _cut(description, room)]).rstrip())


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    intent: str = typer.Argument(
        ...,
        help="An intent, optionally with a version range: research.summarize@^1.",
        autocompletion=complete_intent,
    ),
    paths: list[str] = typer.Argument(None, help=_PATHS_HELP, show_default=False),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """Show one intent: target, schemas, ACL, limits, prompt, examples and other versions."""
    from agentgo_cli.backend.views import IntentRequest

    check_output(output)
    request = IntentRequest(intent=intent, paths=paths or [])
    entry = with_backend(ctx, lambda b: b.intent(request))
    if output == "json":
        print_view(entry)
        return
    for line in _show_lines(entry):
        typer.echo(line)


@app.command("export")
@handle_errors
def export(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(None, help=_PATHS_HELP, show_default=False),
    fmt: str = typer.Option(..., "--format", help="The card format: a2a (A2A AgentCard 1.0)."),
    url: str = typer.Option(
        "http://localhost:8080", "--url", help="The base URL where 'agentgo serve' answers."
    ),
    out: str = typer.Option(
        None, "--out", help="Write one <kind>-<name>.json per card into this folder."
    ),
) -> None:
    """Export the catalog as A2A AgentCards: one card per agent or team.

    Without --out, prints a JSON list of the cards. Each card's skills are its target's
    intents; their schemas, versions and ACL are in the card's AgentGo extension.
    """
    if fmt not in _FORMATS:
        raise UsageError(f"--format takes {', '.join(_FORMATS)}, got '{fmt}'")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url takes an http:// or https:// URL, got '{url}'")
    from agentgo_cli.backend.views import ExportRequest

    request = ExportRequest(paths=paths or [], format="a2a", url=url)
    cards = with_backend(ctx, lambda b: b.export_cards(request))
    if out is None:
        print_json([c.card for c in cards])
        return
    from pathlib import Path

    folder = Path(out)
    with writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for exported in cards:
            path = folder / exported.file_name
            text = json.dumps(exported.card, indent=2, ensure_ascii=False) + "\n"
            path.write_text(text, encoding="utf-8")
            typer.echo(str(path))


def _show_lines(intent: IntentView) -> list[str]:
    lines = [
        f"{intent.name}@{intent.version}",
        f"  target          {intent.target}  (card {intent.card or 'synthetic'})",
        f"  description     {intent.description or '-'}",
        f"  tags            {', '.join(intent.tags) or '-'}",
        f"  classification  {intent.classification}",
    ]
    lines += [f"  {'acl' if i == 0 else '':<16}{rule}" for i, rule in enumerate(_acl_lines(intent))]
    lines += [
        f"  rate limit      {_rate(intent.rate_limit)}",
        f"  idempotency     {intent.idempotency_ttl or '-'}",
        f"  timeout         {intent.timeout or '-'}",
        "  input:",
        *_indent(json.dumps(intent.input, indent=2, ensure_ascii=False), 4),
        "  output:",
        *_indent(
            json.dumps(intent.output, indent=2, ensure_ascii=False) if intent.output else "any",
            4,
        ),
        "  prompt:",
        *_indent(intent.prompt or "- (the input is the task)", 4),
        "  examples:",
    ]
    for example in intent.examples:
        line = json.dumps(example.get("input"), ensure_ascii=False)
        if example.get("output") is not None:
            line += f" → {json.dumps(example['output'], ensure_ascii=False)}"
        if example.get("description"):
            line += f"  ({example['description']})"
        lines.append(f"    {line}")
    if not intent.examples:
        lines.append("    -")
    lines.append(f"  other versions  {', '.join(intent.other_versions) or '-'}")
    return lines


def _rate(limit: dict[str, Any] | None) -> str:
    if limit is None:
        return "-"
    burst = f", burst {limit['burst']}" if limit.get("burst") else ""
    return f"{limit['requests']} per {limit['per']}{burst}, per caller"


_DEFAULT_RULES = {
    "public": "any caller, anonymous ones too",
    "restricted": "nobody (it needs acl.allow)",
}


def _acl_lines(intent: CatalogEntryView) -> list[str]:
    """The allow rules (or the default rule of the classification), then the deny rules."""
    allow = (intent.acl or {}).get("allow") or []
    deny = (intent.acl or {}).get("deny") or []
    default = _DEFAULT_RULES.get(intent.classification, "any authenticated principal")
    lines = [] if allow else [f"default for '{intent.classification}': {default}"]
    for verb, rule in [*(("allow", r) for r in allow), *(("deny", r) for r in deny)]:
        scopes = f" (scopes: {', '.join(rule['scopes'])})" if rule.get("scopes") else ""
        lines.append(f"{verb:<5} {rule['principal']}{scopes}")
    return lines


def _indent(text: str, by: int) -> list[str]:
    return [" " * by + line for line in text.splitlines()]


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _columns() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns
