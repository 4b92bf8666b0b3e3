"""agentgo worker: run queued jobs and resume abandoned ones."""

from __future__ import annotations

import typer

from agentgo_cli.cli._output import handle_errors, open_backend, run_async

DRAIN_SECONDS = 30.0
"""--drain's default (agentgo_cli.engine.worker.DRAIN_SECONDS; not imported: help is fast)."""

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the worker command to the root app."""

    @app.command()
    @handle_errors
    def worker(
        ctx: typer.Context,
        concurrency: int = typer.Option(16, "--concurrency", "-c", min=1, help="Jobs at once."),
        once: bool = typer.Option(False, "--once", help="Stop when no job is left."),
        poll: float = typer.Option(1.0, "--poll", min=0.01, help="Seconds between polls."),
        watch: bool = typer.Option(
            False,
            "--watch",
            help="Reload the manifests when a file changes (SIGHUP always reloads).",
        ),
        drain: float = typer.Option(
            DRAIN_SECONDS,
            "--drain",
            min=0,
            help="On SIGTERM: seconds running jobs get to finish before they are given up "
            "to another worker.",
        ),
    ) -> None:
        """Take queued jobs, and jobs whose lease expired, and run them to their end.

        Prints a line on stderr as it takes each job and as the job ends.

        On SIGTERM it takes no new job, lets running jobs finish for up to --drain
        seconds (a second SIGTERM cuts that short), then gives up those still running
        (their leases end, so another worker takes them at once) and exits 0. Ctrl-C
        gives them up at once. A worker killed outright (SIGKILL, a crash) cannot give
        its jobs up: another worker takes them over once their lease expires, 30 s
        after the dead worker last renewed it.

        On SIGHUP, or with --watch when a manifest file changes, the manifest sets in use
        are validated again and swapped in whole; a set that no longer validates is
        refused and the previous one stays in use. Running jobs keep their set.
        """
        from agentgo_cli.backend.views import WorkRequest

        request = WorkRequest(
            concurrency=concurrency, once=once, poll=poll, watch=watch, drain=drain
        )

        async def go() -> None:
            async with open_backend(ctx) as backend:
                async for notice in backend.work(request):
                    if notice.job_id is not None:  # "job j-… succeeded in 1.2s"
                        typer.echo(notice.message, err=True)
                        continue
                    sep = ":" if notice.jobs_run is None else ""  # "worker ran 3 jobs"
                    typer.echo(f"worker{sep} {notice.message}", err=True)

        run_async(go())
