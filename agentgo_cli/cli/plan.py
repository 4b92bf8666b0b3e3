"""agentgo plan: show a workflow's step graph, and what each step reads, without running it."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from agentgo_cli.cli._output import (
    check_output,
    handle_errors,
    parse_pairs,
    print_view,
    with_backend,
)
from agentgo_cli.cli.completion import complete_workflow
from agentgo_cli.errors import UsageError

if TYPE_CHECKING:
    from rich.tree import Tree

    from agentgo_cli.backend.views import PlanReadView, PlanStepView, PlanView

__all__ = ["register"]

_SHOWN_CHARS = 60
"""A setting's text longer than this is cut short in the text tree (JSON has it whole)."""


class PlanFormat(StrEnum):
    """How agentgo plan draws the graph."""

    text = "text"
    mermaid = "mermaid"
    dot = "dot"


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _read_line(read: PlanReadView) -> str:
    """``prompt: ${{ steps.draft.output }} <- steps.draft``."""
    sources = [
        *(f"steps.{s}" for s in read.steps),
        *(f"inputs.{i}" for i in read.inputs),
        *read.names,
    ]
    text = f"{read.field}: ${{{{ {read.expression} }}}}"
    return text + (f"  <- {', '.join(sources)}" if sources else "")


def _step_text(step: PlanStepView) -> str:
    from agentgo_cli.cli._graph import step_title

    parts = [step_title(step)]
    parts += [f"{k}={_value(v)}" for k, v in step.settings.items()]
    if step.team is not None and step.team.limits:
        parts.append("limits " + " ".join(f"{k}={v}" for k, v in step.team.limits.items()))
    if step.team is not None and step.team.blackboard:
        parts.append(f"blackboard {step.team.blackboard}")
    if step.condition is not None and not any(r.field == "if" for r in step.reads):
        parts.append(f"if {_value(step.condition)}")  # an expression is a read below
    if step.retry is not None:
        r = step.retry
        parts.append(f"retry {r['max_attempts']}x {r['backoff']} {r['initial']}..{r['max']}")
    if step.timeout is not None:
        parts.append(f"timeout {step.timeout}")
    if step.continue_on_error:
        parts.append("continue_on_error")
    lines = ["  ".join(parts) + f"  (line {step.line})"]
    lines += [f"reads {_read_line(r)}" for r in step.reads]
    return "\n".join(lines)


def _add(tree: Tree, steps: list[PlanStepView]) -> None:
    from rich.text import Text

    for step in steps:
        _add(tree.add(Text(_step_text(step))), step.steps)


def _print_text(plan: PlanView) -> None:
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    console = Console(highlight=False)
    console.print(Text(f"workflow {plan.workflow} ({plan.file})"))
    if plan.inputs:
        inputs = Tree(Text("inputs"))
        for name, value in plan.inputs.items():
            note = "  (default)" if name in plan.defaults else ""
            inputs.add(Text(f"{name} = {_value(value)}{note}"))
        console.print(inputs)
    steps = Tree(Text("steps"))
    _add(steps, plan.steps)
    console.print(steps)
    if plan.outputs:
        outputs = Tree(Text("outputs"))
        for read in plan.outputs:
            outputs.add(Text(_read_line(read)))
        console.print(outputs)


def register(app: typer.Typer) -> None:
    """Add the plan command to the root app."""

    @app.command()
    @handle_errors
    def plan(
        ctx: typer.Context,
        workflow: str = typer.Argument(
            ...,
            help="A workflow file, or the name of a workflow in the profile's manifests.",
            autocompletion=complete_workflow,
        ),
        inputs: list[str] = typer.Option(
            [], "--input", "-i", help="An input as name=value (repeatable), checked as run does."
        ),
        input_file: str = typer.Option(None, "--input-file", help="A JSON or YAML file of inputs."),
        fmt: PlanFormat = typer.Option(
            PlanFormat.text,
            "--format",
            help="text (a tree), mermaid (a flowchart) or dot (a Graphviz digraph).",
        ),
        output: str = typer.Option(
            "text", "--output", "-o", help="text (as --format says) or json (the plan's data)."
        ),
    ) -> None:
        """Show a workflow's steps as a graph, with what each one reads; run nothing.

        The manifests are validated and the inputs checked as 'agentgo run' would (same
        errors, same exit codes); no model, tool or store is used and no job is made.
        """
        from agentgo_cli.backend.views import PlanRequest

        check_output(output)
        if output == "json" and fmt is not PlanFormat.text:
            raise UsageError(f"--output json prints the plan's data; leave out --format {fmt}")
        request = PlanRequest(workflow=workflow, inputs=parse_pairs(inputs), input_file=input_file)
        view = with_backend(ctx, lambda b: b.plan(request))
        if output == "json":
            print_view(view)
        elif fmt is PlanFormat.mermaid:
            from agentgo_cli.cli._graph import to_mermaid

            typer.echo(to_mermaid(view))
        elif fmt is PlanFormat.dot:
            from agentgo_cli.cli._graph import to_dot

            typer.echo(to_dot(view))
        else:
            _print_text(view)
