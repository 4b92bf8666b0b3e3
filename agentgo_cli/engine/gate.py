"""The step gate: how a stopping server lets the steps in flight finish and starts no new one.

Every engine of a process shares one gate. While it is open it only counts the leaf steps
(tools, agents, calls, values, role turns) whose work is running. Once closed, a step about
to start waits at the gate instead (``park``); when no leaf step is running any more and
each running job waits at the gate, every job is at its last committed step and may be
given up (``JobStore.release``) to be resumed by the next process, redoing nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

__all__ = ["StepGate"]


class StepGate:
    """Counts leaf steps at work; once closed, holds every step about to start."""

    def __init__(self) -> None:
        self.active = 0
        """Leaf steps whose work is running now."""
        self.closed = False
        self._parked: Counter[str] = Counter()
        self._never = asyncio.Event()

    def close(self) -> None:
        """Start no new step from now on: steps about to start wait in ``park``."""
        self.closed = True

    async def park(self, job_id: str) -> None:
        """Wait here, a step of ``job_id`` about to start, until the job is cancelled."""
        self._parked[job_id] += 1
        try:
            await self._never.wait()
        finally:
            self._parked[job_id] -= 1
            if not self._parked[job_id]:
                del self._parked[job_id]

    def settled(self, running: Iterable[str]) -> bool:
        """Whether no leaf step is at work and each of the ``running`` jobs waits here."""
        return self.active == 0 and all(job_id in self._parked for job_id in running)
