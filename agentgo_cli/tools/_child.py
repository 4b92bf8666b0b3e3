"""Finding a python tool and wording its failures, in process and in the child that runs an
isolated tool.

The isolated runtime starts ``python -c <this file's text>``: the child needs nothing else of
agentgo_cli (importing the package would cost every call its start-up), so this module
imports only the standard library. It reads a JSON request on stdin, calls the tool and
writes one JSON answer to the stdout it was started with; what the tool prints goes to
stderr.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["ImportProblem", "describe", "resolve"]


class ImportProblem(Exception):
    """The entrypoint cannot be imported or called; the text follows "tool 'x'"."""


def describe(exc: BaseException) -> str:
    """How a tool's exception reads after "tool 'x'": ending the process is named as such."""
    if isinstance(exc, SystemExit):
        return f" tried to exit the process (SystemExit {exc.code!r})"
    if isinstance(exc, KeyboardInterrupt):
        return " tried to interrupt the process (KeyboardInterrupt)"
    text = str(exc)
    return f" raised {type(exc).__name__}: {text}" if text else f" raised {type(exc).__name__}"


def resolve(entrypoint: str) -> tuple[Callable[..., Any], bool, bool]:
    """Import 'module:function'; return it, whether it is async and whether it takes ctx."""
    module_name, _, attr = entrypoint.partition(":")
    where = f": cannot import entrypoint '{entrypoint}'"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ImportProblem(f"{where}: {type(exc).__name__}: {exc}") from exc
    function = getattr(module, attr, None)
    if function is None:
        raise ImportProblem(f"{where}: module '{module_name}' has no attribute '{attr}'")
    if not callable(function):
        raise ImportProblem(f"{where}: '{attr}' is not callable")
    try:
        wants_ctx = "ctx" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature takes no ctx
        wants_ctx = False
    return function, inspect.iscoroutinefunction(function), wants_ctx


def _call(request: dict[str, Any]) -> Any:
    function, is_async, wants_ctx = resolve(request["entrypoint"])
    kwargs = dict(request["args"])
    if wants_ctx:
        if "ctx" in kwargs:
            raise ImportProblem(": argument 'ctx' is reserved for the call context")
        from agentgo_cli.tools.registry import ToolContext

        kwargs["ctx"] = ToolContext(**request["ctx"])
    if is_async:
        import asyncio

        return asyncio.run(function(**kwargs))
    result = function(**kwargs)
    if inspect.isawaitable(result):
        import asyncio

        async def settle() -> Any:
            return await result

        return asyncio.run(settle())
    return result


def _answer(request: dict[str, Any]) -> str:
    try:
        result = _call(request)
    except ImportProblem as exc:
        return json.dumps({"error": str(exc)})
    try:
        return json.dumps({"result": result})
    except (TypeError, ValueError) as exc:
        return json.dumps({"error": f" returned a value that is not JSON: {exc}"})


def _main() -> None:
    """Run one call as the child of an isolated tool; never return."""
    answer_fd = os.dup(1)
    os.dup2(2, 1)  # the tool's prints go to stderr; stdout carries the answer alone
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file behind
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on every platform
        pass
    request = json.loads(sys.stdin.buffer.read())
    sys.path[:] = request["path"]
    try:
        text = _answer(request)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: reported, not obeyed
        text = json.dumps({"error": describe(exc)})
    with os.fdopen(answer_fd, "w", encoding="utf-8") as out:
        out.write(text)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # threads the tool left running must not keep the child alive


if __name__ == "__main__":
    _main()
