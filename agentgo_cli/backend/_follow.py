"""Following a job that runs in another process (a worker, another shell), or has ended, by
reading the store: its log lines, and its steps as they start and end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agentgo_cli.backend import views as v
from agentgo_cli.backend.convert import log_view, step_view
from agentgo_cli.store.base import JOB_DONE

if TYPE_CHECKING:
    from agentgo_cli.store.base import JobRecord, JobStore, StepRecord

__all__ = ["follow_store", "step_event"]


def step_event(job_id: str, record: StepRecord) -> v.EventView:
    """A step record as a live step event (``kind`` step, no ``seq``), as a job running in
    this process reports it."""
    step = step_view(record)
    return v.EventView(
        job_id=job_id,
        time=record.finished_at or record.started_at,
        kind="step",
        message=f"{step.key} ({step.kind}) {step.status}",
        step=step,
    )


async def follow_store(store: JobStore, job: JobRecord, every: float) -> AsyncIterator[v.EventView]:
    """A job's events from its first until it ends, read from the store every ``every``
    seconds: its log lines, and an event for each step that started, was retried or ended
    since the last read (in time order); last, its ``end`` event."""
    job_id = job.id
    after = 0
    seen: dict[str, tuple[Any, ...]] = {}
    while True:
        # The job was read before its records: once it has ended, these are all of them.
        events = [log_view(job_id, r) for r in await store.events(job_id, after=after)]
        if events:
            after = events[-1].seq or after
        for record in await store.steps(job_id):
            mark = (record.status, record.attempt, record.started_at, record.finished_at)
            if seen.get(record.key) != mark:
                seen[record.key] = mark
                events.append(step_event(job_id, record))
        for event in sorted(events, key=lambda e: e.time):
            yield event
        if job.status in JOB_DONE:
            yield v.EventView(
                job_id=job_id,
                time=job.updated_at,
                kind="end",
                message=f"{job.status}: {job.error}" if job.error else job.status,
                data={"status": job.status, "error": job.error},
            )
            return
        await asyncio.sleep(every)
        again = await store.get_job(job_id)
        job = job if again is None else again
