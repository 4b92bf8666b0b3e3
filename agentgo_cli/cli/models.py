"""agentgo models: the configured providers, their models and prices; a ping to one model."""

from __future__ import annotations

import typer

from agentgo_cli.cli._output import check_output, handle_errors, print_view, with_backend
from agentgo_cli.errors import UsageError

__all__ = ["app"]

app = typer.Typer(
    help="List the configured model providers and prices; ping a model.", no_args_is_help=True
)


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@app.command("list")
@handle_errors
def list_models(
    ctx: typer.Context,
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """List the providers of agentgo.yaml and the models the manifests use, with prices.

    Prices are US dollars per million input and output tokens: the built-in table, or the
    config's `providers.<name>.prices`. The key column says where a key comes from, never
    the key.
    """
    check_output(output)
    rows = with_backend(ctx, lambda b: b.models())
    if output == "json":
        print_view(rows)
        return
    if not rows:
        typer.echo("no providers configured and no agents found; add 'providers:' to agentgo.yaml")
        return
    header = ("MODEL", "IN $/MTOK", "OUT $/MTOK", "PRICE", "KEY", "USED BY")
    table = [header] + [
        (
            r.ref,
            _price(r.input_usd_per_mtok),
            _price(r.output_usd_per_mtok),
            r.price_source,
            r.key or ("-" if r.provider in ("ollama", "scripted") else "missing"),
            ", ".join(r.agents) or "-",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@app.command("ping")
@handle_errors
def ping(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="A model reference, e.g. openai:gpt-4o-mini."),
    within: float = typer.Option(
        20.0, "--timeout", min=0.1, help="Seconds to wait for the answer."
    ),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """Send one tiny request to a model: checks its key and that it can be reached.

    No retries and no failover: the first error is shown as it is. A missing key is a
    configuration error (exit 2) that names the variable to set.
    """
    check_output(output)
    from agentgo_cli.manifests.types import PROVIDERS

    provider, sep, model = ref.partition(":")
    if not sep or not model or provider not in PROVIDERS:
        from agentgo_cli.manifests._text import did_you_mean

        raise UsageError(
            f"'{ref}' is not a model reference: write provider:name, e.g. openai:gpt-4o-mini"
            + (did_you_mean(provider, PROVIDERS) if sep else "")
        )
    from agentgo_cli.backend.views import PingRequest

    request = PingRequest(ref=ref, within=within)
    result = with_backend(ctx, lambda b: b.ping_model(request))
    if output == "json":
        print_view(result)
        return
    typer.echo(
        f"{result.ref}: {result.text.strip()!r} in {result.seconds * 1000:.0f} ms, "
        f"{result.input_tokens}+{result.output_tokens} tokens, ${result.cost_usd:.6f}"
    )
