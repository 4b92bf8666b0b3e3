"""The worker loop: claim queued (or abandoned) jobs and run them, reloading on request, and
stopping cleanly on SIGTERM (drain, then give up what still runs)."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from agentgo_cli.engine.watch import reload_triggers
from agentgo_cli.store.base import JOB_DONE

if TYPE_CHECKING:
    from agentgo_cli.engine.engines import Engines
    from agentgo_cli.store.base import JobRecord, JobStore

__all__ = ["DRAIN_SECONDS", "RELEASED", "Worker"]

_log = logging.getLogger("agentgo")

DRAIN_SECONDS = 30.0
"""How long, after SIGTERM, running jobs may take to finish before they are given up."""
RELEASED = "given up by a worker that stopped; queued again"
"""The log line of a job a stopping worker released."""

_Running = dict["asyncio.Task[JobRecord]", tuple["JobRecord", float]]


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
        on_job: Callable[[str, str], None] | None = None,
        drain: float = DRAIN_SECONDS,
        stop: asyncio.Event | None = None,
    ) -> int:
        """Claim and run jobs until stopped (or, with ``once``, until none is left); return
        how many jobs ran to their end here.

        SIGHUP, and a change to a file under ``watch_paths`` (checked every ``poll``
        seconds), reload the manifest sets (see ``Engines.reload``); ``notify`` is told.
        ``on_job(job_id, line)``, when given, is told of each job taken, ended or given up.

        SIGTERM stops it: no job is taken any more, running jobs get up to ``drain``
        seconds to finish (a second SIGTERM cuts that short), and those still running then
        are given up (``JobStore.release``), so another worker takes them at once. A cancel
        from outside (Ctrl-C) gives them up at once.

        With ``stop`` (a worker inside ``agentgo serve``, whose server owns the signals),
        no signal handler is set: setting ``stop`` acts as SIGTERM does.
        """
        engines, store = self.engines, self.store
        tell = on_job or (lambda _job_id, _line: None)
        done = 0
        reload, stopping, hurry = asyncio.Event(), stop or asyncio.Event(), asyncio.Event()
        stop_watching = reload_triggers(reload, watch_paths, poll)
        undo_term: Callable[[], None] = _nothing
        if stop is None:
            undo_term = _on_signal(
                signal.SIGTERM, lambda: (hurry if stopping.is_set() else stopping).set()
            )
        running: _Running = {}

        def reap(finished: set[asyncio.Task[JobRecord]]) -> None:
            nonlocal done
            for task in finished:
                job, began = running.pop(task)
                done += 1
                if task.exception() is not None:  # one broken job must not stop it
                    _log.error("worker: a job stopped with an error: %s", task.exception())
                    tell(job.id, f"job {job.id} stopped with an internal error")
                    continue
                status = task.result().status
                if status in JOB_DONE:
                    tell(job.id, f"job {job.id} {status} in {time.monotonic() - began:.1f}s")
                else:  # LeaseLost: another process took it over
                    tell(job.id, f"job {job.id} left to another process that took it over")

        try:
            while not stopping.is_set():
                if reload.is_set():
                    reload.clear()
                    engines.reload(notify)
                while len(running) < concurrency and not stopping.is_set():
                    job = await store.claim_job(
                        engines.owner, engines.lease_seconds, poison_after=engines.poison_after
                    )
                    if job is None:
                        break
                    engine = engines.get(job.manifests)
                    tell(job.id, f"job {job.id} {job.workflow} started")
                    running[asyncio.ensure_future(engine.run(job))] = (job, time.monotonic())
                if not running and once:
                    return done
                await _first(poll, reload, stopping, *running)
                reap({t for t in running if t.done()})
            if running:
                n = len(running)
                notify(
                    f"stopping: no new jobs; waiting up to {drain:g}s for {n} running "
                    f"job{'s' * (n != 1)}"
                )
                deadline = time.monotonic() + drain
                while running and not hurry.is_set() and time.monotonic() < deadline:
                    await _first(deadline - time.monotonic(), hurry, *running)
                    reap({t for t in running if t.done()})
            return done
        finally:
            stop_watching()
            undo_term()
            await self._give_up(running, tell)

    async def _give_up(self, running: _Running, tell: Callable[[str, str], None]) -> None:
        """Stop the jobs still running here and release their leases (see JobStore.release)."""
        for task in running:
            task.cancel()
        if not running:
            return
        await asyncio.gather(*running, return_exceptions=True)
        for task, (job, _) in running.items():
            lease = job.lease
            if (
                task.cancelled()
                and lease is not None
                and await self.store.release(job.id, lease, RELEASED)
            ):
                tell(job.id, f"job {job.id} released: another worker takes it at once")


async def _first(within: float, *waits: asyncio.Event | asyncio.Task[JobRecord]) -> None:
    """Wait until an event is set or a task is done, for at most ``within`` seconds."""
    getters = [asyncio.ensure_future(w.wait()) for w in waits if isinstance(w, asyncio.Event)]
    tasks = [w for w in waits if not isinstance(w, asyncio.Event)]
    try:
        await asyncio.wait(
            [*getters, *tasks], timeout=max(0.0, within), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for getter in getters:
            getter.cancel()


def _nothing() -> None:
    pass


def _on_signal(sig: signal.Signals, handler: Callable[[], object]) -> Callable[[], None]:
    """Call ``handler`` on the event loop when ``sig`` arrives; return the undo."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(sig, handler)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
        return lambda: None

    def undo() -> None:
        loop.remove_signal_handler(sig)

    return undo
