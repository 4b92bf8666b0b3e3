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
import importlib.machinery
import inspect
import json
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["ImportProblem", "child_path", "describe", "entrypoint_problem", "resolve"]

_ROOTS: set[str] = set()
"""The project roots this process has imported tools from (see ``_use_root``)."""


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


def _origin(name: str, module: ModuleType) -> str | None:
    """The folder a module's top-level package or module was imported from (None: unknown)."""
    try:
        depth = name.count(".") + 1
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            if getattr(module, "__path__", None) is not None:
                depth += 1  # .../pkg/__init__.py
            where = file
        else:  # a namespace package: no file, a path
            paths = list(getattr(module, "__path__", None) or [])
            if not paths or not isinstance(paths[0], str):
                return None
            where = paths[0]
        for _ in range(depth):
            where = os.path.dirname(where)
        return where
    except Exception:  # a module object that misbehaves on attribute access
        return None


def _use_root(root: str, top: str) -> bool:
    """Make a module found under ``root`` importable from there; False when it is not there.

    The root goes to the front of sys.path and stays (so a tool's later imports of its
    sibling modules work, as with ``PYTHONPATH=<root>``). When the root changes (several
    projects in one process, as in a test run), the modules imported from the other roots
    put there are forgotten, so that ``crm`` of one project is never the ``crm`` of another;
    modules from anywhere else (the standard library, installed packages, a folder that was
    on sys.path already) are left alone.
    """
    sys.path_importer_cache.pop(root, None)  # the folder may have changed since it was read
    if importlib.machinery.PathFinder.find_spec(top, [root]) is None:
        return False
    if root in sys.path and root not in _ROOTS:
        return True  # on the path already (PYTHONPATH, the tests' root): not ours to manage
    if sys.path[:1] != [root]:
        while root in sys.path:
            sys.path.remove(root)
        sys.path.insert(0, root)
        others = _ROOTS - {root}
        if others:
            stale = [n for n, m in list(sys.modules.items()) if _origin(n, m) in others]
            for name in stale:
                del sys.modules[name]
    _ROOTS.add(root)
    return True


def child_path() -> list[str]:
    """sys.path for a child process: this one's, less the project roots put on it here (the
    child puts its own root first)."""
    return [p for p in sys.path if p not in _ROOTS]


def _import(module_name: str, root: str | None) -> ModuleType:
    if root is not None:
        _use_root(root, module_name.partition(".")[0])
    return importlib.import_module(module_name)


def resolve(entrypoint: str, root: str | None = None) -> tuple[Callable[..., Any], bool, bool]:
    """Import 'module:function' (from the project ``root`` when the module is there); return
    the function, whether it is async and whether it takes ctx."""
    module_name, _, attr = entrypoint.partition(":")
    where = f": cannot import entrypoint '{entrypoint}'"
    try:
        module = _import(module_name, root)
    except Exception as exc:
        looked = ""
        if root is not None and isinstance(exc, ModuleNotFoundError) and exc.name == module_name:
            looked = f" (looked in the project root {root} and on the Python path)"
        raise ImportProblem(f"{where}: {type(exc).__name__}: {exc}{looked}") from exc
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


def entrypoint_problem(entrypoint: str, root: str | None, place: str) -> str | None:
    """Why 'module:function' cannot be called, in words with the fix; None when it can.

    Imports the module, so its top-level code runs. ``place`` names the root for the
    message, e.g. "the project root /p (the folder of agentgo.yaml)".
    """
    module_name, _, attr = entrypoint.partition(":")
    head = f"cannot import '{entrypoint}'"
    top = module_name.partition(".")[0]
    try:
        module = _import(module_name, root)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if str(exc).endswith("is not a package"):
            parent = missing.rpartition(".")[0]
            return (
                f"{head}: no module named '{missing}' ('{parent}' is a module, not a package); "
                "fix the entrypoint"
            )
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            file = missing.replace(".", "/") + ".py"
            return (
                f"{head}: no module named '{missing}' in {place} or on the Python path; "
                f"put {file} there, or fix the entrypoint"
            )
        return f"{head}: importing '{module_name}' raised {_last_line(exc, root)}"
    except BaseException as exc:  # SystemExit too: a module's top level may do anything
        return f"{head}: importing '{module_name}' raised {_last_line(exc, root)}"
    loaded = sys.modules.get(top)
    origin = _origin(top, loaded) if loaded is not None else None
    if (
        root is not None
        and origin != root
        and importlib.machinery.PathFinder.find_spec(top, [root]) is not None
    ):
        return (
            f"{head}: '{top}' in {place} is hidden by the module '{top}' Python has already "
            f"imported from {origin or 'its own modules'}; rename it"
        )
    try:
        function = getattr(module, attr, None)
    except Exception as exc:
        return f"{head}: reading '{attr}' of module '{module_name}' raised {_last_line(exc, root)}"
    if function is None:
        import difflib

        names = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(attr, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"{head}: module '{module_name}' has no function '{attr}'{hint}"
    if not callable(function):
        return f"{head}: '{attr}' of module '{module_name}' is not a function"
    return None


def _last_line(exc: BaseException, root: str | None) -> str:
    """An exception as its traceback's last line, with where in the project it was raised."""
    import traceback

    text = traceback.format_exception_only(exc)[-1].strip() or type(exc).__name__
    text = "".join(  # one line, whatever the message holds
        c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"
        for c in " ".join(text.split("\n"))
    )
    frames: list[tuple[str, int | None]]
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        frames = [(exc.filename, exc.lineno)]
    else:
        frames = [(f.filename, f.lineno) for f in traceback.extract_tb(exc.__traceback__)]
    inside = [(f, n) for f, n in frames if root is not None and f.startswith(root + os.sep)]
    if inside:
        file, line = inside[-1]
        text += f" (at {os.path.relpath(file, root)}:{line})"
    return text


def _call(request: dict[str, Any]) -> Any:
    function, is_async, wants_ctx = resolve(request["entrypoint"], request.get("root"))
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
    if "check" in request:  # validate: one line per entrypoint, written as soon as known
        with os.fdopen(answer_fd, "w", encoding="utf-8") as out:
            for entrypoint in request["check"]:
                problem = entrypoint_problem(entrypoint, request["root"], request["place"])
                out.write(json.dumps({"entrypoint": entrypoint, "problem": problem}) + "\n")
                out.flush()
        os._exit(0)
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
