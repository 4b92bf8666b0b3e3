"""The trace recorder: an Observer that keeps what a job did, node by node, in the store.

The engine subscribes one for every job it runs (in-process runs, resumes and workers
alike): each failed attempt that is retried (``retry``), each attempt a stop cut short
(``interrupted``, written when the job is resumed), and, at the ``full`` level, each model
turn (the messages sent, the reply, its tool calls), each tool call (arguments, result or
error with its traceback) and each agent-to-agent call (intent, decision, principal chain;
its callee's turns and tool calls carry its span). ``agentgo jobs trace`` shows them as a
tree. What the step records already say (a step's last attempt: when it began, how it
ended) is not written again, so a step that runs once costs no row at the ``steps`` level
and one per turn, tool call and call at ``full``.

Records are handed to the store's group-commit writer without waiting (``add_trace``),
fenced by the job's lease like its other records. Payloads were redacted where their
events were made; each is cut at ``limit`` bytes of JSON, visibly: a text payload ends
with ``… [cut N bytes]``, any other becomes ``{"truncated": true, "bytes": N, "kept":
"<the first bytes of its JSON>"}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentgo_cli.manifests.models.config import TRACE_LEVELS, TRACE_PAYLOAD_BYTES, TraceLevel
from agentgo_cli.observer import (
    AgentCalled,
    Event,
    JobEnded,
    LogLine,
    ModelTurn,
    ToolCalled,
)
from agentgo_cli.store.base import TraceEntry, encode_json

if TYPE_CHECKING:
    from agentgo_cli.engine.state import Run
    from agentgo_cli.store.base import JobStore

__all__ = ["PAYLOAD_LIMIT", "TRACE_LEVELS", "TraceLevel", "TraceRecorder", "cap", "cap_text"]

PAYLOAD_LIMIT = TRACE_PAYLOAD_BYTES
"""Bytes of JSON kept of one payload (messages, reply, arguments, result, traceback, …):
the profile's ``trace_payload_bytes`` default."""

_log = logging.getLogger("agentgo")


def cap(value: Any, limit: int = PAYLOAD_LIMIT) -> str:
    """The JSON text of one payload, or, past ``limit`` bytes, of a marker saying it was cut
    (``truncated``, its full size in ``bytes``, and what is ``kept``). A value that is not
    JSON is replaced by a note saying why."""
    if isinstance(value, str):
        return encode_json(cap_text(value, limit))
    try:
        text = encode_json(value)
    except (TypeError, ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return encode_json({"unstorable": reason})
    if len(text) * 4 <= limit:  # no character takes more than 4 bytes
        return text
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    kept = raw[:limit].decode("utf-8", "ignore")
    return encode_json({"truncated": True, "bytes": len(raw), "kept": kept})


def cap_text(text: str, limit: int = PAYLOAD_LIMIT) -> str:
    """Text of at most ``limit`` bytes, ending ``… [cut N bytes]`` when N bytes were cut."""
    if len(text) * 4 <= limit:
        return text
    raw = text.encode("utf-8", "surrogatepass")  # a lone surrogate is cut, or kept escaped
    if len(raw) <= limit:
        return text
    kept = raw[:limit].decode("utf-8", "ignore")
    return f"{kept}… [cut {len(raw) - len(kept.encode('utf-8'))} bytes]"


class TraceRecorder:
    """Records the events of the jobs running here (``runs``) as their trace.

    ``emit`` is synchronous and never raises: it queues one record per event and returns.
    Events of jobs not running here (or of no job: ``agentgo call``) are not recorded.
    """

    def __init__(
        self,
        store: JobStore,
        runs: Mapping[str, Run],
        *,
        level: TraceLevel = "full",
        limit: int = PAYLOAD_LIMIT,
    ) -> None:
        if level not in TRACE_LEVELS:
            raise ValueError(f"trace level is one of {', '.join(TRACE_LEVELS)}, not '{level}'")
        self.store = store
        self.runs = runs
        """The jobs running here, by id: their leases fence the records."""
        self.full = level == "full"
        self.limit = limit
        self._failed = False
        self._resumed: dict[str, LogLine] = {}
        """Resume lines naming interrupted steps, by job: a resume says so before its run
        is registered here, so they are recorded with the run's first event."""

    def _early(self, job_id: str, event: Event) -> None:
        """Keep a resume line that names interrupted steps; forget it when the job ends."""
        if isinstance(event, LogLine):
            data = event.data
            if event.kind == "job" and isinstance(data, dict) and "interrupted" in data:
                self._resumed[job_id] = event
        elif isinstance(event, JobEnded):
            self._resumed.pop(job_id, None)

    def emit(self, event: Event) -> None:
        job_id = getattr(event, "job_id", None)
        run = self.runs.get(job_id) if job_id is not None else None
        if run is None:
            if job_id is not None:
                self._early(job_id, event)
            return
        try:
            if self._resumed:
                line = self._resumed.pop(run.job.id, None)
                if line is not None:
                    self._interrupted(run, line)
            entry = self._entry(event)
            if entry is not None:
                self.store.add_trace(run.job.id, entry, lease=run.lease)
        except Exception:  # recording must never fail a job
            if not self._failed:
                self._failed = True
                _log.warning("job %s: a trace record was dropped", job_id, exc_info=True)

    def _entry(self, event: Event) -> TraceEntry | None:
        if isinstance(event, LogLine):
            return self._retried(event)
        if not self.full:
            return None
        if isinstance(event, ModelTurn):
            data = self._data(
                messages=event.messages,
                reply=event.reply,
                tool_calls=event.tool_calls,
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
            )
            tokens = event.input_tokens + event.output_tokens
            return TraceEntry(
                event.time, "turn", event.key, None, event.span, None, event.ref, "ok",
                event.latency_s, tokens, event.cost_usd, data,
            )  # fmt: skip
        if isinstance(event, ToolCalled):
            status = "ok" if event.error is None else "failed"
            data = self._data(
                arguments=event.arguments,
                result=event.result,
                error=event.error,
                traceback=event.traceback,
            )
            return TraceEntry(
                event.time, "tool", event.key, None, event.span, None, event.tool, status,
                event.seconds, 0, 0.0, data,
            )  # fmt: skip
        if isinstance(event, AgentCalled):
            name = event.intent if event.version is None else f"{event.intent}@{event.version}"
            data = self._data(
                chain=event.principal_chain, trace_id=event.trace_id, error=event.error
            )
            return TraceEntry(
                event.time, "call", event.key, None, event.span_id, event.parent_span_id, name,
                event.decision, event.seconds, event.tokens, event.cost_usd, data,
            )  # fmt: skip
        return None

    def _retried(self, line: LogLine) -> TraceEntry | None:
        """A failed attempt that will be retried (the scheduler's ``retry`` log line)."""
        data = line.data
        if not isinstance(data, dict):
            return None
        key, attempt, error = data.get("key"), data.get("attempt"), data.get("error")
        if line.kind != "retry" or not isinstance(key, str) or not isinstance(attempt, int):
            return None
        seconds = data.get("seconds")
        payload = self._data(error=error) if isinstance(error, str) else None
        return TraceEntry(
            line.time, "retry", key, attempt, None, None, None, "failed",
            seconds if isinstance(seconds, float | int) else None, 0, 0.0, payload,
        )  # fmt: skip

    def _interrupted(self, run: Run, line: LogLine) -> None:
        """One ``interrupted`` row per step a stop cut short, with when its attempt began."""
        started = line.data["interrupted"]
        for key, at in started.items() if isinstance(started, dict) else ():
            began = at if isinstance(at, float | int) else line.time
            entry = TraceEntry(
                line.time, "interrupted", key, None, None, None, None, "interrupted", None,
                0, 0.0, self._data(started_at=began),
            )  # fmt: skip
            self.store.add_trace(run.job.id, entry, lease=run.lease)

    def _data(self, **payloads: Any) -> str:
        """The payloads as one JSON object, each cut at the limit (None payloads left out)."""
        given = {name: value for name, value in payloads.items() if value is not None}
        limit = self.limit
        try:
            text = encode_json(given)
        except (TypeError, ValueError, RecursionError):
            pass  # one of them is not JSON: each is encoded (or noted) on its own below
        else:
            if len(text) * 4 <= limit or len(text.encode("utf-8")) <= limit:
                return text  # then no payload is over the limit: the common case, one encode
        parts = [f"{encode_json(name)}:{cap(value, limit)}" for name, value in given.items()]
        return "{" + ",".join(parts) + "}"
