"""What makes a long-running process reload its manifests: SIGHUP, and changed files."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["reload_triggers", "stamps"]


def reload_triggers(reload: asyncio.Event, watched: list[Path], every: float) -> Callable[[], None]:
    """Set ``reload`` on SIGHUP, and when a watched file changes; return the undo."""
    import signal

    loop = asyncio.get_running_loop()
    undo: list[Callable[[], object]] = []
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGHUP, reload.set)
        undo.append(lambda: loop.remove_signal_handler(signal.SIGHUP))
    if watched:

        async def poll() -> None:
            seen = stamps(watched)
            while True:
                await asyncio.sleep(every)
                now = stamps(watched)
                if now != seen:
                    seen = now
                    reload.set()

        task = asyncio.ensure_future(poll())
        undo.append(task.cancel)

    def stop() -> None:
        for step in undo:
            step()

    return stop


def stamps(paths: list[Path]) -> dict[str, tuple[float, int]]:
    """(mtime, size) of every manifest file under the paths: what --watch compares."""
    found: dict[str, tuple[float, int]] = {}
    for root in paths:
        files = [root] if root.is_file() else [*root.rglob("*.yaml"), *root.rglob("*.yml")]
        for path in files:
            with contextlib.suppress(OSError):
                st = path.stat()
                found[str(path)] = (st.st_mtime, st.st_size)
    return found
