"""The worker loop: claim queued (or abandoned) jobs and run them, reloading on request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.watch import reload_triggers

if TYPE_CHECKING:
    from agentgo_cli.engine.engines import Engines
    from agentgo_cli.store.base import JobStore

__all__ = ["Worker"]

_log = logging.getLogger("agentgo")


class Worker:
    """Runs the jobs of a store, up to ``concurrency`` at once, each on the engine of its
    manifest set."""

    def __init__(self, engines: Engines, store: JobStore) -> None:
        self.engines = engines
        self.store = store

    async def run(
        self,
        *,
        concurrency: int,
        once: bool,
        poll: float,
        watch_paths: list[Path],
        notify: Callable[[str], None],
    ) -> int:
        """Claim and run jobs until cancelled (or, with ``once``, until none is left);
        return how many jobs ran.

        SIGHUP, and a change to a file under ``watch_paths`` (checked every ``poll``
        seconds), reload the manifest sets (see ``Engines.reload``); ``notify`` is told.
        """
        engines, store = self.engines, self.store
        done = 0
        reload = asyncio.Event()
        stop_watching = reload_triggers(reload, watch_paths, poll)
        running: set[asyncio.Task[Any]] = set()
        try:
            while True:
                if reload.is_set():
                    reload.clear()
                    engines.reload(notify)
                while len(running) < concurrency:
                    job = await store.claim_job(
                        engines.owner, engines.lease_seconds, poison_after=engines.poison_after
                    )
                    if job is None:
                        break
                    engine = engines.get(job.manifests)
                    running.add(asyncio.ensure_future(engine.run(job)))
                if not running:
                    if once:
                        return done
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reload.wait(), poll)
                    continue
                finished, pending = await asyncio.wait(
                    running, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                )
                running = set(pending)
                done += len(finished)
                for task in finished:
                    if task.exception() is not None:  # one broken job must not stop it
                        _log.error("worker: a job stopped with an error: %s", task.exception())
        finally:
            stop_watching()
            for task in running:  # stopped from outside: the jobs stay to be resumed
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
