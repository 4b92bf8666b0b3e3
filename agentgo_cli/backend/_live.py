"""Live events of the jobs that run in this process: the observer ``watch`` reads from."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from agentgo_cli.backend.convert import step_details
from agentgo_cli.backend.views import EventView, StepView
from agentgo_cli.observer import (
    AgentCalled,
    Event,
    JobEnded,
    LogLine,
    ModelTurn,
    ReplyDelta,
    ShadowCompared,
    StepFinished,
    StepStarted,
    ToolCalled,
)

__all__ = ["Feed", "LiveFeeds", "event_view"]


class Feed:
    """Every event of one job since it started here; any number of readers follow it."""

    def __init__(self) -> None:
        self.events: list[EventView] = []
        self.ended = False
        self._changed = asyncio.Event()

    def push(self, event: EventView, *, last: bool = False) -> None:
        self.events.append(event)
        self.ended = self.ended or last
        self._changed.set()

    def close(self) -> None:
        """End the feed without an end event (its job's run stopped with an error)."""
        self.ended = True
        self._changed.set()

    async def follow(self) -> AsyncIterator[EventView]:
        """The events so far, then each new one, until the job's end event."""
        seen = 0
        while True:
            while seen < len(self.events):
                seen += 1
                yield self.events[seen - 1]
            if self.ended:
                return
            self._changed.clear()
            await self._changed.wait()


class LiveFeeds:
    """An Observer keeping a feed for each job opened here (others' events are ignored).

    A feed outlives its job a while, so that a reader who comes late (the job was quick)
    still reads it from the start: the newest ``keep_ended`` ended feeds are kept.
    """

    def __init__(self, keep_ended: int = 256) -> None:
        self._feeds: dict[str, Feed] = {}
        self._ended: collections.deque[str] = collections.deque()
        self._keep_ended = keep_ended

    def open(self, job_id: str) -> Feed:
        """Start keeping the events of a job about to run here."""
        feed = self._feeds[job_id] = Feed()
        return feed

    def get(self, job_id: str) -> Feed | None:
        return self._feeds.get(job_id)

    def stopped(self, job_id: str) -> None:
        """The run of a job here is over: its feed ends, if its end event did not end it
        (a run that raised: its readers must not wait for ever)."""
        feed = self._feeds.get(job_id)
        if feed is not None and not feed.ended:
            feed.close()
            self._ended.append(job_id)

    def emit(self, event: Event) -> None:
        job_id: str | None = getattr(event, "job_id", None)
        feed = self._feeds.get(job_id) if job_id is not None else None
        if job_id is not None and feed is not None and not feed.ended:
            last = isinstance(event, JobEnded)
            feed.push(event_view(event), last=last)
            if last:
                self._ended.append(job_id)
                while len(self._ended) > self._keep_ended:
                    self._feeds.pop(self._ended.popleft(), None)


def event_view(event: Event) -> EventView:
    """An observer event as the seam shows it."""
    job_id = getattr(event, "job_id", None) or ""
    if isinstance(event, ReplyDelta):  # first: a streamed reply makes many
        return EventView(
            job_id=job_id,
            time=event.time,
            kind="delta",
            message=event.text,
            data={"key": event.key},
        )
    if isinstance(event, StepStarted):
        step = StepView(
            key=event.key,
            step_id=event.step_id,
            kind=event.kind,
            status="running",
            attempt=event.attempt,
            started_at=event.time,
        )
        return _step_event(job_id, event.time, step)
    if isinstance(event, StepFinished):
        step = StepView(
            key=event.key,
            step_id=event.step_id,
            kind=event.kind,
            status=event.status,
            attempt=event.attempt,
            started_at=event.time - event.seconds,
            finished_at=event.time,
            error=event.error,
            tokens=event.tokens,
            cost_usd=event.cost_usd,
        )
        if event.details:  # as its record shows it (convert.step_view)
            details = step_details(event.kind, event.details)
            step = StepView.model_validate({**step.model_dump(), **details})
        return _step_event(job_id, event.time, step)
    if isinstance(event, LogLine):
        return EventView(
            job_id=job_id, time=event.time, kind=event.kind, message=event.message, data=event.data
        )
    if isinstance(event, JobEnded):
        message = f"{event.status}: {event.error}" if event.error else str(event.status)
        data = {"status": str(event.status), "error": event.error}
        return EventView(job_id=job_id, time=event.time, kind="end", message=message, data=data)
    if isinstance(event, ModelTurn):
        message = (
            f"{event.ref}: {event.input_tokens}+{event.output_tokens} tokens, "
            f"{event.latency_s * 1000:.0f} ms"
        )
        return _other(job_id, "model", message, event)
    if isinstance(event, ToolCalled):
        state = f"failed: {event.error}" if event.error else "ok"
        return _other(job_id, "tool", f"{event.tool} {state}", event)
    if isinstance(event, AgentCalled):
        return _other(job_id, "agent_call", f"{event.intent} {event.decision}", event)
    if isinstance(event, ShadowCompared):
        return _other(job_id, "shadow", event.message, event)
    raise TypeError(f"not an observer event: {event!r}")  # pragma: no cover


def _step_event(job_id: str, time: float, step: StepView) -> EventView:
    return EventView(
        job_id=job_id,
        time=time,
        kind="step",
        message=f"{step.key} ({step.kind}) {step.status}",
        step=step,
    )


def _other(job_id: str, kind: str, message: str, event: Any) -> EventView:
    data = dataclasses.asdict(event)
    data.pop("job_id", None)
    data.pop("time", None)
    return EventView(job_id=job_id, time=event.time, kind=kind, message=message, data=data)
