"""The python runtime with ``isolation: process``: one child process per call.

The child gets this interpreter, sys.path and working folder, the project root to import
the tool from (as in process), the input and context as JSON on stdin, and answers with
JSON on stdout (see ``_child``). Whatever the tool does to its process (``os._exit``, a
segfault, a hang) ends that child only; the call fails with the exit status or signal
named, and a cancelled or timed-out call kills the child's process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import StepError
from agentgo_cli.tools._child import child_path

if TYPE_CHECKING:
    from agentgo_cli.tools.registry import ToolContext

__all__ = ["IMPORT_TIMEOUT", "call_isolated", "check_imports"]

IMPORT_TIMEOUT = 30.0
"""Seconds ``check_imports`` gives one child before the import it is in is blamed."""


@lru_cache(maxsize=1)
def _child_source() -> str:
    return Path(__file__).with_name("_child.py").read_text(encoding="utf-8")


async def _spawn(*, stderr: int | None = None) -> asyncio.subprocess.Process:
    """A child process running ``_child`` with this interpreter, in a process group of its
    own (so that a kill reaches what it started)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _child_source(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )


def _kill_group(child: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


async def _end(child: asyncio.subprocess.Process) -> None:
    """Kill the child and its group, and wait for it (even when the caller is cancelled)."""
    _kill_group(child)
    with contextlib.suppress(ProcessLookupError):
        child.kill()
    await asyncio.shield(child.wait())


async def call_isolated(
    name: str, entrypoint: str, args: dict[str, Any], ctx: ToolContext, root: str | None = None
) -> Any:
    """Run the tool in a child process and return its result; StepError when it fails.

    ``root`` is the project root the entrypoint imports from, as in process.
    """
    request = json.dumps(
        {
            "path": child_path(),
            "root": root,
            "entrypoint": entrypoint,
            "args": args,
            "ctx": dataclasses.asdict(ctx),
        }
    ).encode()
    child = await _spawn()
    try:
        out, _ = await child.communicate(request)
    except BaseException:  # cancelled (a timeout, a stop): the child goes with the call
        await _end(child)
        raise
    _kill_group(child)  # anything the tool left running in its group
    answer = _answer(out)
    if answer is None:
        raise StepError(f"tool '{name}': {_ended(child.returncode)} before answering")
    if "error" in answer:
        raise StepError(f"tool '{name}'{answer['error']}")
    return answer.get("result")


async def check_imports(
    entrypoints: list[str], root: str | None, place: str
) -> tuple[list[tuple[str, str | None]], str]:
    """Import each entrypoint in one child process, as an isolated call would (see
    ``_child.entrypoint_problem``): (entrypoint, problem or None) for each the child answered,
    in order, and how the child ended when it answered fewer (it died or hung on the next)."""
    request = json.dumps({"path": child_path(), "check": entrypoints, "root": root, "place": place})
    child = await _spawn(stderr=subprocess.DEVNULL)  # what modules print is not our output
    assert child.stdin is not None and child.stdout is not None
    answers: list[tuple[str, str | None]] = []
    ended = ""
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            child.stdin.write(request.encode())
            await child.stdin.drain()
            child.stdin.close()
        async with asyncio.timeout(IMPORT_TIMEOUT):
            while len(answers) < len(entrypoints):
                answer = _answer(await child.stdout.readline())
                if answer is None:
                    break
                answers.append((str(answer.get("entrypoint")), answer.get("problem")))
            await child.wait()
    except TimeoutError:
        ended = f"did not finish within {IMPORT_TIMEOUT:g}s"
    finally:
        await _end(child)
    return answers, ended or f"ended the process: {_ended(child.returncode)}"


def _answer(out: bytes) -> dict[str, Any] | None:
    if not out:
        return None
    try:
        answer = json.loads(out)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            how = signal.Signals(-code).name
        except ValueError:
            how = str(-code)
        return f"its process was killed by signal {how}"
    return f"its process exited with status {code}"
