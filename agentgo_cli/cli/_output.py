"""Rendering and the error boundary shared by every command."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeGuard, TypeVar

import typer

if TYPE_CHECKING:
    from pydantic import BaseModel

    from agentgo_cli.backend import Backend
    from agentgo_cli.backend.views import StepView

from agentgo_cli.errors import AgentGoError, InvalidConfigError, ManifestSetError, UsageError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "abort",
    "check_output",
    "handle_errors",
    "kind_label",
    "open_backend",
    "print_json",
    "print_view",
    "printable",
    "run_async",
    "step_kind",
    "with_backend",
    "writing",
]

EXIT_BROKEN_PIPE = 141
"""What a shell reports for a command killed by SIGPIPE (128 + 13): the reader went away."""

EXIT_INTERRUPTED = 130
"""What a shell reports for a command stopped by Ctrl-C (128 + SIGINT)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, lines: bool = False) -> str:
    """Stored text made safe to print: control characters escaped (``\\x1b``), so nothing
    stored (a principal, an error, a model's reply) can forge lines of its own or send
    terminal codes. With ``lines``, its newlines and tabs are kept."""
    pattern = _CONTROL_BUT_LINES if lines else _CONTROL
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def kind_label(kind: str, notes: Mapping[str, Any] | None = None) -> str:
    """A step's kind as its line says it, with what a team's records note (``notes``: a
    step view's ``turn`` or ``team``, a trace node's detail): a role turn's role, the agent
    that answered and those that failed first, its round and handoff (``role billing:
    biller after broken failed, round 2``); a team step's protocol, rounds and outcome
    (``team swarm, 2 rounds, answered by billing``)."""
    if not notes:
        return kind
    if kind == "role" and notes.get("role"):
        text = f"role {notes['role']}"
        if notes.get("agent"):
            text += f": {notes['agent']}"
            tried = notes.get("failed_agents")
            failed = [f.get("agent") for f in tried if _is_map(f)] if _is_list(tried) else []
            if failed:
                text += f" after {', '.join(map(str, failed))} failed"
        if notes.get("round"):
            text += f", round {notes['round']}"
        handoff = notes.get("handoff")
        if _is_map(handoff) and handoff.get("to"):
            text += f", handoff to {handoff['to']}"
        return printable(text)
    if kind == "team" and notes.get("protocol"):
        rounds = notes.get("rounds") or 0
        text = f"team {notes['protocol']}, {_count(rounds, 'round')}"
        if isinstance(notes.get("tasks"), int):
            text += f", {_count(notes['tasks'], 'task')}"
        if notes.get("awarded"):
            text += f", awarded {notes['awarded']}"
        if notes.get("answered_by"):
            text += f", answered by {notes['answered_by']}"
        return printable(text)
    return kind


def step_kind(step: StepView) -> str:
    """A step view's kind as its line says it (``kind_label``)."""
    noted = step.turn or step.team
    return kind_label(step.kind, noted.model_dump() if noted is not None else None)


def _is_map(value: object) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def _is_list(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


P = ParamSpec("P")
R = TypeVar("R")


def check_output(output: str) -> None:
    """Refuse an --output value other than text or json."""
    if output not in ("text", "json"):
        raise UsageError(f"--output takes text or json, got '{output}'")


def print_json(data: Any) -> None:
    """Print data as indented JSON on stdout."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_view(view: BaseModel | list[Any]) -> None:
    """Print a view (or a list of views) as JSON: exactly the model's dump."""
    if isinstance(view, list):
        print_json([item.model_dump(mode="json") for item in view])
    else:
        print_json(view.model_dump(mode="json"))


def open_backend(ctx: typer.Context, *, lenient: bool = False) -> Backend:
    """The backend of the profile chosen on the root command (or by AGENTGO_PROFILE).

    A broken config file is refused (exit 2), unless ``lenient`` (validate lists its
    errors); warnings about the config go to stderr, once per command.
    """
    from agentgo_cli.backend import backend_for

    root = ctx.find_root()
    return backend_for((root.obj or {}).get("profile"), lenient=lenient, warn=_warn)


def _warn(message: str) -> None:
    typer.secho(f"warning: {message}", fg="yellow", err=True)


def with_backend(
    ctx: typer.Context, use: Callable[[Backend], Awaitable[R]], *, lenient: bool = False
) -> R:
    """Open the profile's backend, run ``use`` with it, close it; return what ``use`` gave."""

    async def go() -> R:
        async with open_backend(ctx, lenient=lenient) as backend:
            return await use(backend)

    return run_async(go())


@contextlib.contextmanager
def writing(target: object) -> Iterator[None]:
    """Turn an OSError while writing files under ``target`` into a UsageError (exit 2)."""
    try:
        yield
    except BrokenPipeError:  # stdout, not the files: the boundary ends quietly
        raise
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise UsageError(f"cannot write {exc.filename or target}: {reason}") from None


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
            if isinstance(exc, InvalidConfigError):  # a broken config file: each line first
                for error in exc.errors:
                    typer.echo(str(error), err=True)
            raise abort(str(exc), exc.exit_code) from None
        except BrokenPipeError:  # stdout's reader went away (| head): end quietly
            _silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            typer.secho("interrupted", fg="red", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test runner's stdout)
        pass


def run_async(coro: Coroutine[Any, Any, R]) -> R:
    """The one place a command's coroutine is run (nothing below cli/ calls asyncio.run)."""
    import asyncio

    return asyncio.run(coro)
