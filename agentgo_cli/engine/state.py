"""The engine's per-job state and the small pieces its scheduler and executors share."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import AgentGoError, CallError, ProviderError, SandboxError, StepError
from agentgo_cli.expr import ExpressionError, render
from agentgo_cli.manifests.models import WorkflowManifest
from agentgo_cli.manifests.models.common import Budget
from agentgo_cli.manifests.models.workflow import ForeachStep, LoopStep, ParallelStep
from agentgo_cli.observer import LogLine, Redactor
from agentgo_cli.store.base import JobRecord, Lease, StepRecord
from agentgo_cli.teams.coordinator import gather

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from agentgo_cli.a2a.trace import TraceContext
    from agentgo_cli.llm.cost import CostTracker
    from agentgo_cli.observer import Observer
    from agentgo_cli.store.base import JobStore

__all__ = [
    "CALLING_TOOLS",
    "FAILS_STEP",
    "STEP_ERRORS",
    "BudgetSpent",
    "Refused",
    "Run",
    "Scope",
    "StepFailed",
    "all_ids",
    "backoff",
    "check_budget",
    "gather",
    "inside",
    "log_line",
    "merge_inner",
    "outputs",
    "position",
    "shadow_line",
]


class Refused(Exception):
    """A job that ends before it starts: (status, error)."""


class BudgetSpent(AgentGoError):
    """The workflow's budget is spent: the job stops with this message."""


class StepFailed(Exception):
    """A step failed and the job must stop (continue_on_error was not set).

    ``key`` is the innermost step that failed (``each[0].enrich``), ``reason`` its own error:
    a container that fails because a step inside it failed passes this on unchanged, so the
    failure is said once, where it happened, whatever the nesting.
    """

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"step '{key}' failed: {reason}")
        self.key = key
        self.reason = reason

    @classmethod
    def of_record(cls, record: StepRecord) -> StepFailed:
        """The failure a failed step record stands for (a container's names the innermost
        step it recorded as ``failed_step``)."""
        error = record.error or "failed"
        inner = record.extra.get("failed_step") if record.extra else None
        if isinstance(inner, str):
            return cls(inner, error.removeprefix(f"step '{inner}' failed: "))
        return cls(record.key, error)


@dataclass
class Scope:
    """Names expressions see at one place in the run."""

    values: dict[str, Any]

    def child(self, **extra: Any) -> Scope:
        values = dict(self.values)
        values["steps"] = dict(self.values["steps"])
        values.update(extra)
        return Scope(values)

    def set_step(
        self,
        step_id: str,
        status: str,
        output: Any = None,
        error: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Make ``steps.<step_id>`` read a step's result (and its kind's own ``fields``)."""
        entry = {"output": output, "status": status, "error": error}
        if fields:
            entry.update(fields)
        self.values["steps"][step_id] = entry


@dataclass
class Run:
    """One job being run by this process."""

    job: JobRecord
    workflow: WorkflowManifest
    done: dict[str, StepRecord]
    semaphore: asyncio.Semaphore | None
    observer: Observer | None = None
    """Where this run's events go (None: nobody listens, no event is made)."""
    stream: bool = False
    """Whether agent steps stream their replies to the observer (ReplyDelta): someone
    watches the run live. Otherwise each model turn is one complete() call."""
    redactor: Redactor | None = None
    """Masks secrets in the events' text (log lines, step errors) where they are made."""
    tokens: int = 0
    cost_usd: float = 0.0
    budget: Budget | None = None
    """The workflow's budget, checked after every step."""
    costs: CostTracker | None = None
    """Every real model call of the job made here (made with the first one)."""
    clients: list[Any] = field(default_factory=list)
    """Reliable clients of this job, whose shadow calls may still be running."""
    trace: TraceContext | None = None
    """The job's trace (started by its first call): each call is a span below its step's."""
    started: dict[str, float] = field(default_factory=dict)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What executors note about a step beyond its output, by key (a loop's ``exhausted``, a
    foreach's item ``errors``): recorded with the step's result, then dropped here."""
    inflight: set[str] = field(default_factory=set)
    """Keys of steps started and not yet finished."""
    lease: Lease | None = None
    """The fencing token every write of this job's records carries (ours since we took it)."""
    lease_until: float = float("inf")
    """Wall-clock time until which no other process may take the job over (our lease's
    expiry, less a margin): past it, a step starts only after the lease is renewed."""


STEP_ERRORS: tuple[type[Exception], ...] = (StepError, ProviderError, SandboxError, CallError)
"""Errors that fail a step (and may be retried); others (the store failing) stop the job."""
FAILS_STEP: tuple[type[BaseException], ...] = (
    *STEP_ERRORS,
    ExpressionError,
    TimeoutError,
    StepFailed,
)
"""Everything that ends a step attempt as failed."""

CALLING_TOOLS = frozenset({"call_agent", "discover_agents", "route_intent"})
"""The built-in tools that call or find other agents."""


def outputs(wf: WorkflowManifest, scope: Scope) -> dict[str, Any]:
    """The workflow's outputs, rendered in the scope its steps left."""
    try:
        values = render(wf.spec.outputs, scope.values)
    except ExpressionError as exc:
        raise StepError(f"outputs: {exc}") from exc  # the cause: where it is written
    assert isinstance(values, dict)
    return values


def inside(inner_key: str, key: str) -> bool:
    """Whether ``inner_key`` names a step inside the container ``key``."""
    return inner_key.startswith(key) and inner_key[len(key) : len(key) + 1] in ("[", "#", ".")


def position(rest: str) -> tuple[int, ...]:
    """The item and iteration numbers in a key's tail, for ordering ('[2].x#3.y' → (2, 3))."""
    return tuple(int(n) for n in re.findall(r"[\[#](\d+)", rest))


def merge_inner(scope: Scope, inner_scopes: list[Scope], steps: list[Any]) -> None:
    """Make a container's inner steps addressable outside it, with their latest values."""
    ids = set(all_ids(steps))
    for inner in inner_scopes:
        for step_id, value in inner.values["steps"].items():
            if step_id in ids:
                scope.values["steps"][step_id] = value


def all_ids(steps: list[Any]) -> list[str]:
    """The ids of the steps and of every step inside them."""
    out: list[str] = []
    for step in steps:
        out.append(step.id)
        if isinstance(step, ForeachStep):
            out += all_ids(step.steps)
        elif isinstance(step, LoopStep):
            out += all_ids(step.loop.steps)
        elif isinstance(step, ParallelStep):
            out += all_ids(step.parallel)
    return out


def backoff(retry: Any, attempt: int) -> float:
    """Exponential (or fixed) backoff with full jitter."""
    base = retry.initial.seconds
    cap = retry.max.seconds
    delay = base if retry.backoff == "fixed" else min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(0, delay)


def check_budget(run: Run) -> None:
    """Stop the job once the workflow's budget is spent (its tokens or its usd)."""
    budget = run.budget
    assert budget is not None
    tokens = run.job.tokens + run.tokens
    cost = run.job.cost_usd + run.cost_usd
    if budget.tokens is not None and tokens > budget.tokens:
        raise BudgetSpent(f"workflow budget exceeded: {tokens} tokens > {budget.tokens}")
    if budget.usd is not None and cost > budget.usd:
        raise BudgetSpent(f"workflow budget exceeded: ${cost:.6f} > ${budget.usd:g}")


def shadow_line(record: Any) -> str:
    """The job log line of one shadow comparison."""
    verdict = (
        "error: " + record.error if record.error else ("agrees" if record.agrees else "differs")
    )
    return f"shadow {record.ref} of {record.main_ref}: {verdict}"


def log_line(
    store: JobStore,
    observer: Observer | None,
    job_id: str,
    kind: str,
    message: str,
    data: Any = None,
    redactor: Redactor | None = None,
    lease: Lease | None = None,
) -> Awaitable[None]:
    """Write a line to a job's log (fenced by ``lease``) and report it as a LogLine
    (secrets masked); the write is the caller's to await."""
    if observer is not None:
        if redactor:
            observer.emit(LogLine(job_id, kind, redactor.text(message), redactor.value(data)))
        else:
            observer.emit(LogLine(job_id, kind, message, data))
    return store.add_event(job_id, kind, message, data, lease=lease)
