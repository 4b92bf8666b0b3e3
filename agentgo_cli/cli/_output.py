"""Rendering and the error boundary shared by every command."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    from agentgo_cli.store.base import JobRecord

from agentgo_cli.errors import AgentGoError, ManifestSetError, UsageError

__all__ = ["abort", "check_output", "handle_errors", "job_to_dict", "print_json", "run_async"]

P = ParamSpec("P")
R = TypeVar("R")


def check_output(output: str) -> None:
    """Refuse an --output value other than text or json."""
    if output not in ("text", "json"):
        raise UsageError(f"--output takes text or json, got '{output}'")


def print_json(data: Any) -> None:
    """Print data as indented JSON on stdout."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def job_to_dict(job: JobRecord) -> dict[str, Any]:
    """The one JSON shape of a job, printed by run, resume and jobs."""
    return {
        "job_id": job.id,
        "workflow": job.workflow,
        "status": job.status,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "duration_s": round(job.updated_at - job.created_at, 3),
        "inputs": job.inputs,
        "outputs": job.outputs,
        "error": job.error,
        "tokens": job.tokens,
        "cost_usd": job.cost_usd,
        "principal": job.principal,
        "scopes": job.scopes,
    }


def parse_pairs(values: list[str]) -> dict[str, str]:
    """``-i name=value`` options as a dict of text; UsageError for one without '='."""
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"-i takes name=value, got '{item}'")
        out[name] = value
    return out


def abort(message: str, code: int) -> typer.Exit:
    """Print a one-line error on stderr and return the Exit to raise."""
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn AgentGoErrors into a message and an exit code; tracebacks only with AGENTGO_DEBUG."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ManifestSetError as exc:
            if os.environ.get("AGENTGO_DEBUG") == "1":
                raise
            for error in exc.errors:
                typer.echo(str(error), err=True)
            n = len(exc.errors)
            raise abort(f"the manifest set has {n} error{'s' * (n != 1)}", exc.exit_code) from None
        except AgentGoError as exc:
            if os.environ.get("AGENTGO_DEBUG") == "1":
                raise
            raise abort(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            typer.secho("interrupted", fg="red", err=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # the last line of defence: no traceback for users
            if os.environ.get("AGENTGO_DEBUG") == "1":
                raise
            name = type(exc).__name__
            raise abort(
                f"internal error: {name}: {exc} (set AGENTGO_DEBUG=1 for a traceback, and "
                "please report it)",
                1,
            ) from None

    return wrapper


def run_async(coro: Coroutine[Any, Any, R]) -> R:
    """The one place a command's coroutine is run (nothing below cli/ calls asyncio.run)."""
    import asyncio

    return asyncio.run(coro)
