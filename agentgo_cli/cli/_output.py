"""Rendering and the error boundary shared by every command."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from agentgo_cli.errors import AgentGoError

__all__ = ["abort", "handle_errors"]

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
