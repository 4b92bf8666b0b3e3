"""agentgo jobs: list, show, cancel and read the logs of jobs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import typer

from agentgo_cli.cli._output import (
    check_output,
    handle_errors,
    job_to_dict,
    print_json,
    run_async,
)
from agentgo_cli.errors import UsageError

__all__ = ["app"]

_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")

app = typer.Typer(help="List, show, cancel and read the logs of jobs.", no_args_is_help=True)


def _backend(ctx: typer.Context) -> Any:
    from agentgo_cli.backend import LocalBackend

    root = ctx.find_root()
    return LocalBackend(profile=(root.obj or {}).get("profile"))


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
    check_output(output)
    if status is not None and status not in _STATUSES:
        from agentgo_cli.manifests._text import did_you_mean

        raise UsageError(
            f"unknown status '{status}'{did_you_mean(status, _STATUSES)}; "
            f"expected {', '.join(_STATUSES)}"
        )
    jobs = run_async(_backend(ctx).jobs(status=status, limit=limit))
    if output == "json":
        print_json([job_to_dict(j) for j in jobs])
        return
    if not jobs:
        typer.echo("no jobs")
        return
    typer.echo(f"{'JOB':<16} {'WORKFLOW':<24} {'STATUS':<10} {'CREATED':<19} {'SECONDS':>8}")
    for j in jobs:
        typer.echo(
            f"{j.id:<16} {j.workflow[:24]:<24} {j.status:<10} {_when(j.created_at):<19} "
            f"{j.updated_at - j.created_at:>8.2f}"
        )


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job."),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """Show a job and its step tree with timings."""
    check_output(output)
    detail = run_async(_backend(ctx).job(job_id))
    job = detail.job
    if output == "json":
        data = job_to_dict(job)
        data["steps"] = [
            {
                "key": s.key,
                "step_id": s.step_id,
                "kind": s.kind,
                "status": s.status,
                "attempt": s.attempt,
                "started_at": s.started_at,
                "finished_at": s.finished_at,
                "output": s.output,
                "error": s.error,
                "tokens": s.tokens,
                "cost_usd": s.cost_usd,
            }
            for s in detail.steps
        ]
        data["models"] = detail.models
        print_json(data)
        return
    typer.echo(f"job {job.id}  workflow {job.workflow}  {job.status}")
    typer.echo(f"created {_when(job.created_at)}  updated {_when(job.updated_at)}")
    if job.principal:
        scopes = f"  scopes {', '.join(job.scopes)}" if job.scopes else ""
        typer.echo(f"runs for {job.principal}{scopes}")
    line = f"tokens {job.tokens}  cost ${job.cost_usd:.4f}"
    models = detail.models or {}
    if models.get("shadow_calls"):
        line += f"  (shadow calls apart: ${models.get('shadow_usd', 0.0):.4f})"
    typer.echo(line)
    if job.error:
        typer.echo(f"error: {job.error}")
    for s in detail.steps:
        depth = s.key.count(".")
        took = f"{s.finished_at - s.started_at:.3f}s" if s.finished_at else "…"
        line = f"{'  ' * depth}{s.key} ({s.kind}) {s.status} {took}"
        if s.attempt > 1:
            line += f" attempt {s.attempt}"
        if s.tokens:
            line += f" {s.tokens} tokens"
        if s.cost_usd:
            line += f" ${s.cost_usd:.4f}"
        if s.error:
            line += f": {s.error}"
        typer.echo(line)
    if job.outputs:
        typer.echo("outputs:")
        for name, value in job.outputs.items():
            typer.echo(f"  {name}: {json.dumps(value, ensure_ascii=False, default=str)}")


@app.command("cancel")
@handle_errors
def cancel(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job to stop."),
) -> None:
    """Stop a job cleanly: a running step is interrupted and the job ends 'cancelled'."""
    job = run_async(_backend(ctx).cancel(job_id))
    typer.echo(f"job {job.id}: {'cancelled' if job.status == 'cancelled' else 'cancel requested'}")


@app.command("logs")
@handle_errors
def logs(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job."),
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
) -> None:
    """Print a job's events."""
    check_output(output)
    events = run_async(_backend(ctx).logs(job_id))
    if output == "json":
        rows = [
            {"seq": seq, "time": t, "kind": kind, "message": msg, "data": data}
            for seq, t, kind, msg, data in events
        ]
        print_json(rows)
        return
    for _seq, t, kind, msg, _data in events:
        typer.echo(f"{_when(t)} {kind:<10} {msg}")
