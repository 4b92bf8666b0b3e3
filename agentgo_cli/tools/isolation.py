"""The python runtime with ``isolation: process``: one child process per call.

The child gets this interpreter, sys.path and working folder, the input and context as JSON
on stdin, and answers with JSON on stdout (see ``_child``). Whatever the tool does to its
process (``os._exit``, a segfault, a hang) ends that child only; the call fails with the
exit status or signal named, and a cancelled or timed-out call kills the child's process
group.
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

if TYPE_CHECKING:
    from agentgo_cli.tools.registry import ToolContext

__all__ = ["call_isolated"]


@lru_cache(maxsize=1)
def _child_source() -> str:
    return Path(__file__).with_name("_child.py").read_text(encoding="utf-8")


async def call_isolated(name: str, entrypoint: str, args: dict[str, Any], ctx: ToolContext) -> Any:
    """Run the tool in a child process and return its result; StepError when it fails."""
    request = json.dumps(
        {
            "path": sys.path,
            "entrypoint": entrypoint,
            "args": args,
            "ctx": dataclasses.asdict(ctx),
        }
    ).encode()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _child_source(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,  # its own process group: a kill reaches what it started
    )
    try:
        out, _ = await child.communicate(request)
    except BaseException:  # cancelled (a timeout, a stop): the child goes with the call
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await asyncio.shield(child.wait())
        raise
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)  # anything the tool left running in its group
    answer = _answer(out)
    if answer is None:
        raise StepError(f"tool '{name}': {_ended(child.returncode)} before answering")
    if "error" in answer:
        raise StepError(f"tool '{name}'{answer['error']}")
    return answer.get("result")


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
