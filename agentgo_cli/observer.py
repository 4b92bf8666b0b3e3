"""What happens inside a run, as typed events, and the Observer that receives them.

The engine, the call service, the model hub and the tool runtimes are given an ``Observer``
and report to it; nothing imports a global. Progress displays, ``jobs logs``, and later
metrics, traces and the audit trail are subscribers (``Observers`` fans out to many).

Events are plain slotted dataclasses, cheap to make: the engine makes two per step of ten
thousand concurrent jobs. They are made only when an observer is there to receive them.
Secrets are redacted where an event is made (``Redactor``), never by a subscriber.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "AgentCalled",
    "Event",
    "JobEnded",
    "LogLine",
    "ModelTurn",
    "Observer",
    "Observers",
    "Redactor",
    "ReplyDelta",
    "ShadowCompared",
    "StepFinished",
    "StepStarted",
    "ToolCalled",
]


@dataclass(slots=True)
class StepStarted:
    """An attempt of a step instance began."""

    job_id: str
    key: str
    step_id: str
    kind: str
    attempt: int
    time: float = field(default_factory=time.time)


@dataclass(slots=True)
class StepFinished:
    """A step instance ended: succeeded, failed or skipped (its record is written)."""

    job_id: str
    key: str
    step_id: str
    kind: str
    status: str
    attempt: int
    seconds: float
    tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    details: dict[str, Any] | None = None
    """What its record notes beyond its output (a role turn's role, agent and round; a
    team's protocol and rounds; a loop's exhausted, …)."""
    time: float = field(default_factory=time.time)


@dataclass(slots=True)
class ModelTurn:
    """One model call of an agent: what was sent, the reply, its tool calls and its cost."""

    job_id: str | None
    key: str | None
    ref: str
    messages: list[dict[str, Any]]
    reply: str
    tool_calls: list[dict[str, Any]]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_s: float
    time: float = field(default_factory=time.time)
    span: str | None = None
    """The span of the agent-to-agent call this turn ran under (``AgentCalled.span_id``);
    None for a turn of the step's own agent."""


@dataclass(slots=True)
class ReplyDelta:
    """A piece of an agent step's reply as the model streams it.

    Made only for a run that streams (``agentgo run`` showing live progress); the whole
    turn is still reported once as a ModelTurn. Its text is redacted like a turn's.
    """

    job_id: str | None
    key: str | None
    text: str
    time: float = field(default_factory=time.time)


@dataclass(slots=True)
class ToolCalled:
    """One tool call: its arguments, and its result or its error with the traceback."""

    job_id: str | None
    key: str | None
    tool: str
    arguments: Any
    result: Any = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0
    time: float = field(default_factory=time.time)
    span: str | None = None
    """The span of the agent-to-agent call this tool call ran under; None: the step's own."""


@dataclass(slots=True)
class AgentCalled:
    """One typed call between agents: the intent, who called, and what was decided."""

    job_id: str | None
    intent: str
    version: str | None
    principal_chain: list[str]
    decision: str
    """``ok``, or the refusal code (``denied``, ``rate_limited``, …), or ``failed``."""
    trace_id: str | None = None
    error: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    time: float = field(default_factory=time.time)
    span_id: str | None = None
    """This call's own span: the callee's turns and tool calls carry it as their ``span``
    (a refused call has one too, with nothing under it)."""
    parent_span_id: str | None = None
    """The caller's span: a call made by a callee has its caller's call ``span_id`` here."""
    key: str | None = None
    """The key of the job's step the call was made for (the root caller's step)."""


@dataclass(slots=True)
class ShadowCompared:
    """A shadow model's answer, compared with the answer used (never used itself)."""

    job_id: str | None
    data: dict[str, Any]
    message: str
    time: float = field(default_factory=time.time)


@dataclass(slots=True)
class LogLine:
    """A line written to a job's log (retries, failures, resumes, costs)."""

    job_id: str
    kind: str
    message: str
    data: Any = None
    time: float = field(default_factory=time.time)


@dataclass(slots=True)
class JobEnded:
    """A job reached its end here, or stopped here (``status`` says which)."""

    job_id: str
    status: str
    error: str | None = None
    time: float = field(default_factory=time.time)


Event = (
    StepStarted
    | StepFinished
    | ModelTurn
    | ReplyDelta
    | ToolCalled
    | AgentCalled
    | ShadowCompared
    | LogLine
    | JobEnded
)


class Observer(Protocol):
    """Receives every event; must not block and must not raise."""

    def emit(self, event: Event) -> None:
        """Take one event."""
        ...


class Observers:
    """Fans events out to several observers; a failing subscriber is dropped from that event."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self._observers: list[Observer] = list(observers)

    def add(self, observer: Observer) -> None:
        """Subscribe one more observer."""
        self._observers.append(observer)

    def remove(self, observer: Observer) -> None:
        """Unsubscribe an observer (no error if it is not subscribed)."""
        if observer in self._observers:
            self._observers.remove(observer)

    def emit(self, event: Event) -> None:
        for observer in tuple(self._observers):
            try:
                observer.emit(event)
            except Exception:  # a subscriber's bug must not fail the job
                continue


class Redactor:
    """Replaces known secret values in event payloads with ``***``.

    Made once from the secrets of the active config (provider keys and other resolved
    ``${env:}``/``${file:}`` values); applied where events are made.
    """

    MASK = "***"

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would mask ordinary words; a secret is at least 6 characters.
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        """The text with every secret masked."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, self.MASK)
        return value

    def value(self, value: Any) -> Any:
        """A JSON-like value with every secret masked in its strings (keys included)."""
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value
