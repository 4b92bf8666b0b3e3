"""agentgo run and agentgo resume: run a workflow durably, or finish one that stopped."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from agentgo_cli.cli._output import (
    EXIT_INTERRUPTED,
    check_output,
    handle_errors,
    parse_pairs,
    print_view,
    with_backend,
)
from agentgo_cli.cli.completion import complete_job, complete_workflow
from agentgo_cli.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from agentgo_cli.backend import Backend
    from agentgo_cli.backend.views import JobView

__all__ = ["register"]


def render_result(job: JobView, output: str) -> None:
    """Print a finished (or queued) job: outputs on stdout, the status line on stderr.

    A queued job (run --detach) prints only its id on stdout, so that
    ``JOB=$(agentgo run wf.yaml --detach)`` captures it.
    """
    from agentgo_cli.backend.views import JobStatus

    if output == "json":
        print_view(job)
    else:
        if job.status is JobStatus.SUCCEEDED and job.outputs:
            for name, value in job.outputs.items():
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                typer.echo(f"{name}: {text}")
        line = f"job {job.job_id} {job.status}"
        if job.status is JobStatus.QUEUED:
            typer.echo(job.job_id)
            line += (
                f": an 'agentgo worker' runs it; follow it with: agentgo jobs watch {job.job_id}"
            )
        else:
            line += f" in {job.duration_s:.2f}s, {job.tokens} tokens"
            if job.cost_usd:
                line += f", ${job.cost_usd:.4f}"
        if job.error:
            line += f": {job.error}"
        color = {JobStatus.SUCCEEDED: "green", JobStatus.QUEUED: "cyan"}.get(job.status, "red")
        typer.secho(line, fg=color, err=True)
    if job.status in (JobStatus.SUCCEEDED, JobStatus.QUEUED, JobStatus.RUNNING):
        raise typer.Exit(EXIT_OK)
    raise typer.Exit(EXIT_FAILED)


async def follow(backend: Backend, job: JobView, progress: bool) -> JobView:
    """Show a started job's steps as they run (the backend's watch stream), then its end."""
    from agentgo_cli.backend.views import JobStatus

    if job.status not in (JobStatus.RUNNING, JobStatus.QUEUED) or not progress:
        return await backend.wait(job.job_id)
    from agentgo_cli.cli._progress import StepProgress

    with StepProgress() as shown:
        async for event in backend.watch(job.job_id):
            shown.update(event)
    return await backend.wait(job.job_id)


async def finish(ctx: typer.Context, backend: Backend, job: JobView, progress: bool) -> JobView:
    """``follow`` a job started here to its end. On Ctrl-C, give it up at once (its lease
    ends, so a resume or a worker takes it straight away) and say how to finish it; exit 130."""
    import asyncio  # here, not at the top: asyncio is not imported for --help

    try:
        return await follow(backend, job, progress)
    except asyncio.CancelledError:  # asyncio.run turns Ctrl-C into a cancel of this task
        left = await backend.interrupt(job.job_id)
        from agentgo_cli.backend.views import JobStatus

        if left.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
            return left  # it ended before the interrupt reached it
        in_flight = [s.key for s in left.steps if s.status == "running"]
        where = (
            f"at step{'s' * (len(in_flight) > 1)} {', '.join(in_flight)}"
            if in_flight
            else f"after {len(left.steps)} steps"
        )
        profile = (ctx.find_root().obj or {}).get("profile")
        again = f"agentgo {f'-p {profile} ' if profile else ''}resume {left.job_id}"
        typer.secho(
            f"interrupted: job {left.job_id} stopped {where}; finish it with: {again}",
            fg="red",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None


_NO_STREAM_HELP = (
    "Do not show agent replies as the model streams them (the progress display on a "
    "terminal does); each model turn is then one complete call."
)


def _streams(quiet: bool, output: str, no_stream: bool) -> bool:
    """Whether agent replies are streamed: only for the live progress display, which shows
    them (text output on a terminal, not --quiet, not --no-stream)."""
    from agentgo_cli.cli._progress import live_terminal

    return not (quiet or no_stream or output != "text") and live_terminal()


def register(app: typer.Typer) -> None:
    """Add run and resume to the root app."""

    @app.command()
    @handle_errors
    def run(
        ctx: typer.Context,
        workflow: str = typer.Argument(
            ...,
            help="A workflow file, or the name of a workflow in the profile's manifests.",
            autocompletion=complete_workflow,
        ),
        inputs: list[str] = typer.Option(
            [], "--input", "-i", help="An input as name=value (repeatable)."
        ),
        input_file: str = typer.Option(None, "--input-file", help="A JSON or YAML file of inputs."),
        detach: bool = typer.Option(
            False, "--detach", help="Only enqueue the job; an 'agentgo worker' runs it."
        ),
        principal: str = typer.Option(
            None, "--as", help="Run the job for this principal (default user:<login name>)."
        ),
        scopes: list[str] = typer.Option(
            [], "--scope", help="A scope the principal holds for the job's calls (repeatable)."
        ),
        output: str = typer.Option("text", "--output", "-o", help="text or json."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
        no_stream: bool = typer.Option(False, "--no-stream", help=_NO_STREAM_HELP),
    ) -> None:
        """Run a workflow durably and print its outputs.

        A run killed at any moment can be finished with 'agentgo resume JOB_ID'. The job's
        calls to other agents run as its principal (--as, with --scope), also when a
        worker or a resume finishes it.
        """
        from agentgo_cli.backend.views import RunRequest

        check_output(output)
        request = RunRequest(
            workflow=workflow,
            inputs=parse_pairs(inputs),
            input_file=input_file,
            detach=detach,
            principal=principal,
            scopes=list(scopes),
            stream=_streams(quiet, output, no_stream),
        )
        progress = not quiet and output == "text"

        async def go(backend: Backend) -> JobView:
            job = await backend.submit(request)
            return job if detach else await finish(ctx, backend, job, progress)

        render_result(with_backend(ctx, go), output)

    @app.command()
    @handle_errors
    def resume(
        ctx: typer.Context,
        job_id: str = typer.Argument(..., help="The job to finish.", autocompletion=complete_job),
        force: bool = typer.Option(
            False, "--force", help="Take the job over even if its lease looks alive."
        ),
        output: str = typer.Option("text", "--output", "-o", help="text or json."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
        no_stream: bool = typer.Option(False, "--no-stream", help=_NO_STREAM_HELP),
    ) -> None:
        """Finish a job that stopped: finished steps are not run again.

        A job stopped with Ctrl-C, or given up by a stopping worker, is taken at once. A
        job whose process was killed outright (SIGKILL, a crash) keeps its lease until it
        expires, 30 s after that process last renewed it: on this host resume sees the
        process is gone and goes ahead; for a process on another host, wait or --force.
        """
        from agentgo_cli.backend.views import ResumeRequest

        check_output(output)
        request = ResumeRequest(
            job_id=job_id, force=force, stream=_streams(quiet, output, no_stream)
        )
        progress = not quiet and output == "text"

        async def go(backend: Backend) -> JobView:
            return await finish(ctx, backend, await backend.resume(request), progress)

        render_result(with_backend(ctx, go), output)
