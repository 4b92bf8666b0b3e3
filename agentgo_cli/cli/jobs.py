"""agentgo jobs: list, show, trace, watch, cancel and read the logs of jobs."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import typer

from agentgo_cli.cli._output import (
    EXIT_INTERRUPTED,
    check_output,
    handle_errors,
    open_backend,
    print_view,
    printable,
    run_async,
    step_kind,
    with_backend,
)
from agentgo_cli.cli.completion import complete_job
from agentgo_cli.errors import EXIT_FAILED, EXIT_OK, UsageError

if TYPE_CHECKING:
    from agentgo_cli.backend.views import EventView, JobView

__all__ = ["app"]

app = typer.Typer(
    help="List, show, trace, watch, cancel and read the logs of jobs.", no_args_is_help=True
)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


@app.command("list")
@handle_errors
def list_jobs(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="Only jobs with this status."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many, newest first."),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """List jobs, newest first."""
    from agentgo_cli.backend.views import JobsQuery, JobStatus

    check_output(output)
    statuses = [str(s) for s in JobStatus]
    if status is not None and status not in statuses:
        from agentgo_cli.manifests._text import did_you_mean

        raise UsageError(
            f"unknown status '{status}'{did_you_mean(status, statuses)}; "
            f"expected {', '.join(statuses)}"
        )
    query = JobsQuery(status=None if status is None else JobStatus(status), limit=limit)
    jobs = with_backend(ctx, lambda b: b.jobs(query))
    if output == "json":
        print_view(jobs)
        return
    if not jobs:
        typer.echo("no jobs")
        return
    typer.echo(f"{'JOB':<16} {'WORKFLOW':<24} {'STATUS':<10} {'CREATED':<19} {'SECONDS':>8}")
    for j in jobs:
        typer.echo(
            f"{j.job_id:<16} {j.workflow[:24]:<24} {j.status:<10} {_when(j.created_at):<19} "
            f"{j.duration_s:>8.2f}"
        )


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job.", autocompletion=complete_job),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """Show a job and its step tree with timings."""
    check_output(output)
    job = with_backend(ctx, lambda b: b.job(job_id))
    if output == "json":
        print_view(job)
        return
    typer.echo(f"job {job.job_id}  workflow {job.workflow}  {job.status}")
    typer.echo(f"created {_when(job.created_at)}  updated {_when(job.updated_at)}")
    if job.principal:
        scopes = f"  scopes {', '.join(job.scopes)}" if job.scopes else ""
        typer.echo(f"runs for {printable(job.principal)}{scopes}")
    line = f"tokens {job.tokens}  cost ${job.cost_usd:.4f}"
    models = job.models or {}
    if models.get("shadow_calls"):
        line += f"  (shadow calls apart: ${models.get('shadow_usd', 0.0):.4f})"
    typer.echo(line)
    if job.error:
        typer.echo(f"error: {printable(job.error)}")
    for s in job.steps:
        depth = s.key.count(".")
        took = f"{s.finished_at - s.started_at:.3f}s" if s.finished_at else "…"
        line = f"{'  ' * depth}{s.key} ({step_kind(s)}) {s.status} {took}"
        if s.exhausted:  # a loop whose until never held
            line += " exhausted"
        if s.errors:  # a foreach going on past failed items
            line += f" {len(s.errors)} item{'s' if len(s.errors) > 1 else ''} failed"
        if s.attempt > 1:
            line += f" attempt {s.attempt}"
        if s.tokens:
            line += f" {s.tokens} tokens"
        if s.cost_usd:
            line += f" ${s.cost_usd:.4f}"
        if s.error:
            line += f": {printable(s.error)}"
        typer.echo(line)
    if job.outputs:
        typer.echo("outputs:")
        for name, value in job.outputs.items():
            typer.echo(f"  {name}: {json.dumps(value, ensure_ascii=False, default=str)}")


@app.command("cancel")
@handle_errors
def cancel(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job to stop.", autocompletion=complete_job),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """Stop a job cleanly: a running step is interrupted and the job ends 'cancelled'."""
    check_output(output)
    job = with_backend(ctx, lambda b: b.cancel(job_id))
    if output == "json":
        print_view(job)
        return
    typer.echo(
        f"job {job.job_id}: {'cancelled' if job.status == 'cancelled' else 'cancel requested'}"
    )


@app.command("trace")
@handle_errors
def trace(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job.", autocompletion=complete_job),
    step: str = typer.Option(
        None,
        "--step",
        help="Show one node in full (every payload): a step key such as research[0].summarize, "
        "then /attempt:N, /turn:N, /tool:N or /call:N as the tree labels them "
        "(e.g. draft/turn:1, go/call:1/turn:2).",
    ),
    output: str = typer.Option("text", "--output", "-o", help="text or json (the node tree)."),
) -> None:
    """Show what a job did as a tree: steps, attempts, model turns, tool calls and calls
    to other agents, each with its status, duration, tokens and cost."""
    from agentgo_cli.backend.views import TraceRequest
    from agentgo_cli.cli._trace import full_lines, tree_lines

    check_output(output)
    node = with_backend(ctx, lambda b: b.trace(TraceRequest(job_id=job_id, step=step)))
    if output == "json":
        print_view(node)
        return
    for line in full_lines(node) if step is not None else tree_lines(node):
        typer.echo(line)


@app.command("logs")
@handle_errors
def logs(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job.", autocompletion=complete_job),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep printing new events until the job ends."
    ),
    output: str = typer.Option(
        "text", "--output", "-o", help="text or json (with --follow: one JSON object a line)."
    ),
) -> None:
    """Print a job's events."""
    from agentgo_cli.backend.views import LogsRequest

    check_output(output)
    if follow:
        run_async(_follow(ctx, job_id, output))
        return
    events = with_backend(ctx, lambda b: b.logs(LogsRequest(job_id=job_id)))
    if output == "json":
        print_view(events)
        return
    for event in events:
        typer.echo(_log_line(event))


async def _follow(ctx: typer.Context, job_id: str, output: str) -> None:
    async with open_backend(ctx) as backend:
        async for event in backend.watch(job_id):
            if event.step is not None:  # the log only: 'jobs watch' shows the steps
                continue
            if output == "json":
                typer.echo(json.dumps(event.model_dump(mode="json"), ensure_ascii=False))
            elif event.kind != "end":
                typer.echo(_log_line(event))


@app.command("watch")
@handle_errors
def watch(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job.", autocompletion=complete_job),
    output: str = typer.Option(
        "text",
        "--output",
        "-o",
        help="text (the step tree, then the outputs and status line) or json (the job's "
        "events, one JSON object a line, the last of kind 'end').",
    ),
) -> None:
    """Follow a job live, wherever it runs (a worker, another shell): its steps as they
    start and end, then its outputs and status line, and run's exit code (0 succeeded,
    1 failed or cancelled). A job that has ended is shown at once."""
    from agentgo_cli.cli.run import render_result

    check_output(output)
    job = run_async(_watch(ctx, job_id, output))
    if output == "text":
        render_result(job, output)
    raise typer.Exit(EXIT_OK if job.status == "succeeded" else EXIT_FAILED)


async def _watch(ctx: typer.Context, job_id: str, output: str) -> JobView:
    import asyncio  # here, not at the top: asyncio is not imported for --help

    async with open_backend(ctx) as backend:
        try:
            if output == "json":
                async for event in backend.watch(job_id):
                    typer.echo(json.dumps(event.model_dump(mode="json"), ensure_ascii=False))
                return await backend.job(job_id)
            from agentgo_cli.backend.views import JobStatus
            from agentgo_cli.cli._progress import StepProgress

            if (await backend.job(job_id)).status is JobStatus.QUEUED:
                typer.echo(
                    f"job {job_id} is queued: waiting for an 'agentgo worker' to take it", err=True
                )
            with StepProgress() as shown:
                async for event in backend.watch(job_id):
                    shown.update(event)
            return await backend.job(job_id)
        except asyncio.CancelledError:  # Ctrl-C: only the watching stops
            typer.secho(
                f"interrupted: job {job_id} goes on; watch it again with: "
                f"agentgo jobs watch {job_id}",
                fg="red",
                err=True,
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None


def _log_line(event: EventView) -> str:
    return f"{_when(event.time)} {event.kind:<10} {printable(event.message)}"
