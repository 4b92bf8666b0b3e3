"""Rendering and the error boundary shared by every command."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import typer

from agentgo_cli.errors import AgentGoError, ManifestSetError

__all__ = ["abort", "handle_errors", "run_async"]

P = ParamSpec("P")
R = TypeVar("R")


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
