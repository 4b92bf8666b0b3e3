"""Python tools that misbehave: they try to end, crash or hang the process that calls them.

Called through `tests.tools.poison_tools:<name>`, in process and isolated in a child process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any


def exit_3() -> None:
    """Sync: ends the process the polite way."""
    sys.exit(3)


def exit_text() -> None:
    sys.exit("goodbye")


def interrupt() -> None:
    raise KeyboardInterrupt


async def exit_async() -> None:
    """Async: raises SystemExit on the event loop."""
    await asyncio.sleep(0)
    raise SystemExit(4)


def generator_exit() -> None:
    raise GeneratorExit("misused")


async def cancelled_inside() -> None:
    """Raises CancelledError although nobody cancelled the call."""
    raise asyncio.CancelledError


def recurse(depth: int = 0) -> int:
    """Infinite recursion."""
    return recurse(depth + 1) + 1


def hard_exit() -> None:
    """Ends the process at once, without unwinding: only an isolated tool survives this."""
    os._exit(7)


def segfault() -> None:
    """Reads address 0: SIGSEGV."""
    import ctypes

    ctypes.string_at(0)


def hang() -> None:
    time.sleep(60)


async def hang_async() -> None:
    await asyncio.sleep(60)


def chatty(text: str) -> dict[str, Any]:
    """Prints to stdout before answering: the printing must not spoil the answer."""
    print("some chatter on stdout")
    return {"text": text, "words": len(text.split())}


async def chatty_async(text: str) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"text": text.upper()}


def where(ctx: Any) -> dict[str, Any]:
    """Which process ran the call, and what it got as context."""
    return {
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "ctx_type": type(ctx).__name__,
        "job_id": ctx.job_id,
        "attempt": ctx.attempt,
        "idempotency_key": ctx.idempotency_key,
    }


def fail(reason: str) -> None:
    raise ValueError(reason)


def not_json() -> Any:
    return {"when": {1, 2}}
