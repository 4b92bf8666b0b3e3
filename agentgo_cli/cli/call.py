"""agentgo call: call an intent of the catalog, through the whole call lifecycle."""

from __future__ import annotations

import json
import sys

import typer

from agentgo_cli.cli._output import (
    check_output,
    handle_errors,
    parse_pairs,
    print_view,
    with_backend,
)
from agentgo_cli.cli.completion import complete_intent
from agentgo_cli.errors import UsageError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add call to the root app."""

    @app.command("call")
    @handle_errors
    def call(
        ctx: typer.Context,
        intent: str = typer.Argument(
            ...,
            help="An intent, optionally with a version range: research.summarize@^1.",
            autocompletion=complete_intent,
        ),
        input_text: str = typer.Option(
            None,
            "--input",
            help="The input as JSON (text that is not JSON is taken as a string).",
        ),
        pairs: list[str] = typer.Option(
            [], "-i", help="name=value input fields, parsed against the input schema."
        ),
        principal: str = typer.Option(
            None, "--as", help="Call as this principal (default user:<login name>)."
        ),
        scopes: list[str] = typer.Option([], "--scope", help="A scope the caller holds."),
        idempotency_key: str = typer.Option(
            None, "--idempotency-key", help="Same key and input: the stored result, no rerun."
        ),
        traceparent: str = typer.Option(
            None, "--traceparent", help="W3C traceparent to continue (default: a new trace)."
        ),
        output: str = typer.Option(
            "text", "--output", "-o", help="text (the output) or json (the call record)."
        ),
    ) -> None:
        """Call an intent and print its output.

        The call goes through lookup, input schema, ACL, quota, idempotency, trace
        context, principal binding, dispatch and output schema. With --output json the
        whole call record is printed: intent version, principal chain, trace id, cost,
        duration. Exit codes: 3 not found, 4 denied, 5 invalid input, 6 rate limited,
        7 idempotency conflict, 8 invalid output, 1 the target failed.
        """
        from agentgo_cli.backend.views import CallRequest

        check_output(output)
        value = None
        if input_text is not None:
            try:
                value = json.loads(input_text)
            except json.JSONDecodeError:
                value = input_text
            except RecursionError:
                raise UsageError("--input: JSON nested too deeply") from None
            except ValueError:  # only an integer past Python's digit limit gets here
                raise UsageError(
                    f"--input: a number with more than {sys.get_int_max_str_digits()} "
                    "digits is too long"
                ) from None
        request = CallRequest(
            intent=intent,
            input=value,
            pairs=parse_pairs(pairs),
            principal=principal,
            scopes=list(scopes),
            idempotency_key=idempotency_key,
            traceparent=traceparent,
        )
        outcome = with_backend(ctx, lambda b: b.call(request))
        if output == "json":
            print_view(outcome)
            return
        result = outcome.output
        typer.echo(result if isinstance(result, str) else json.dumps(result, ensure_ascii=False))
        note = f"{outcome.intent} in {outcome.duration_s:.2f}s, {outcome.tokens} tokens"
        if outcome.cost_usd:
            note += f", ${outcome.cost_usd:.4f}"
        if outcome.replayed:
            note += " (replayed from the idempotency record)"
        typer.secho(note, err=True, fg="green")
