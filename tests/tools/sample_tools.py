"""Python tools the registry and agent-loop tests call through `tests.tools.sample_tools:<name>`."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from agentgo_cli.tools.registry import ToolContext

NOT_CALLABLE = 42


def count_words(text: str) -> dict[str, int]:
    """Sync: runs in a worker thread."""
    return {"words": len(text.split())}


async def shout(text: str) -> dict[str, str]:
    """Async: awaited on the event loop."""
    await asyncio.sleep(0)
    return {"text": text.upper()}


def where() -> dict[str, bool]:
    return {"main_thread": threading.current_thread() is threading.main_thread()}


async def where_async() -> dict[str, bool]:
    return {"main_thread": threading.current_thread() is threading.main_thread()}


def remember(note: str, ctx: ToolContext) -> dict[str, Any]:
    """Takes the call context, as a tool with side effects would."""
    return {
        "note": note,
        "job_id": ctx.job_id,
        "step_id": ctx.step_id,
        "attempt": ctx.attempt,
        "idempotency_key": ctx.idempotency_key,
    }


def fail(reason: str) -> None:
    raise ValueError(reason)


def bad_count(text: str) -> dict[str, str]:
    """Returns a result that does not match the declared output schema."""
    return {"words": "many"}


async def slow() -> str:
    await asyncio.sleep(5)
    return "late"


def timeout_inside() -> None:
    raise TimeoutError("upstream took too long")
