"""The engine's per-job state and the small pieces its scheduler is made of."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import AgentGoError, CallError, ProviderError, SandboxError, StepError
from agentgo_cli.expr import ExpressionError, render
from agentgo_cli.manifests.models import WorkflowManifest
from agentgo_cli.manifests.models.common import Budget
from agentgo_cli.manifests.models.workflow import (
    AgentStep,
    CallStep,
    ForeachStep,
    LoopStep,
    ParallelStep,
    TeamStep,
    ToolStep,
)
from agentgo_cli.store.base import JobRecord, StepRecord

if TYPE_CHECKING:
    from agentgo_cli.a2a.trace import TraceContext
    from agentgo_cli.llm.cost import CostTracker

__all__ = ["JobEvents"]


@dataclass
class JobEvents:
    """Callbacks for progress display; every one is optional and must not block."""

    on_step: Callable[[str, str, str, float, int, str | None], None] | None = None
    """(key, kind, status, seconds, tokens, error) when a step starts or ends."""


_NO_EVENTS = JobEvents()


class _Refused(Exception):
    """A job that ends before it starts: (status, error)."""


class _BudgetSpent(AgentGoError):
    """The workflow's budget is spent: the job stops with this message."""


class _StepFailed(Exception):
    """A step failed and the job must stop (continue_on_error was not set)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"step '{key}' failed: {message}")
        self.key = key


@dataclass
class _Scope:
    """Names expressions see at one place in the run."""

    values: dict[str, Any]

    def child(self, **extra: Any) -> _Scope:
        values = dict(self.values)
        values["steps"] = dict(self.values["steps"])
        values.update(extra)
        return _Scope(values)

    def set_step(
        self, step_id: str, status: str, output: Any = None, error: str | None = None
    ) -> None:
        self.values["steps"][step_id] = {"output": output, "status": status, "error": error}


@dataclass
class _Run:
    """One job being run by this process."""

    job: JobRecord
    workflow: WorkflowManifest
    done: dict[str, StepRecord]
    semaphore: asyncio.Semaphore | None
    events: JobEvents
    tokens: int = 0
    cost_usd: float = 0.0
    budget: Budget | None = None
    """The workflow's budget, checked after every step."""
    costs: CostTracker | None = None
    """Every real model call of the job made here (made with the first one)."""
    clients: list[Any] = field(default_factory=list)
    trace: TraceContext | None = None
    """The job's trace (started by its first call): each call is a span below its step's."""
    """Reliable clients of this job, whose shadow calls may still be running."""
    started: dict[str, float] = field(default_factory=dict)
    inflight: set[str] = field(default_factory=set)
    """Keys of steps started and not yet finished."""


_STEP_ERRORS: tuple[type[Exception], ...] = (StepError, ProviderError, SandboxError, CallError)
"""Errors that fail a step (and may be retried); others (the store failing) stop the job."""
_FAILS_STEP: tuple[type[BaseException], ...] = (
    *_STEP_ERRORS,
    ExpressionError,
    TimeoutError,
    _StepFailed,
)


def _outputs(wf: WorkflowManifest, scope: _Scope) -> dict[str, Any]:
    try:
        outputs = render(wf.spec.outputs, scope.values)
    except ExpressionError as exc:
        raise StepError(f"outputs: {exc}") from None
    assert isinstance(outputs, dict)
    return outputs


def _inside(inner_key: str, key: str) -> bool:
    """Whether ``inner_key`` names a step inside the container ``key``."""
    return inner_key.startswith(key) and inner_key[len(key) : len(key) + 1] in ("[", "#", ".")


def _position(rest: str) -> tuple[int, ...]:
    """The item and iteration numbers in a key's tail, for ordering ('[2].x#3.y' → (2, 3))."""
    return tuple(int(n) for n in re.findall(r"[\[#](\d+)", rest))


async def _gather(coros: Any) -> list[Any]:
    """Run coroutines at once; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _merge_inner(scope: _Scope, inner_scopes: list[_Scope], steps: list[Any]) -> None:
    """Make a container's inner steps addressable outside it, with their latest values."""
    ids = set(_all_ids(steps))
    for inner in inner_scopes:
        for step_id, value in inner.values["steps"].items():
            if step_id in ids:
                scope.values["steps"][step_id] = value


def _all_ids(steps: list[Any]) -> list[str]:
    out: list[str] = []
    for step in steps:
        out.append(step.id)
        if isinstance(step, ForeachStep):
            out += _all_ids(step.steps)
        elif isinstance(step, LoopStep):
            out += _all_ids(step.loop.steps)
        elif isinstance(step, ParallelStep):
            out += _all_ids(step.parallel)
    return out


_CALLING_TOOLS = frozenset({"call_agent", "discover_agents", "route_intent"})

_KINDS: dict[type, str] = {
    AgentStep: "agent",
    ToolStep: "tool",
    CallStep: "call",
    TeamStep: "team",
    ForeachStep: "foreach",
    LoopStep: "loop",
    ParallelStep: "parallel",
}
_LEAF_KINDS = frozenset({"agent", "tool", "call", "team"})


def _kind(step: Any) -> str:
    return _KINDS.get(type(step), "step")


def _backoff(retry: Any, attempt: int) -> float:
    """Exponential (or fixed) backoff with full jitter."""
    base = retry.initial.seconds
    cap = retry.max.seconds
    delay = base if retry.backoff == "fixed" else min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(0, delay)


def _check_budget(run: _Run) -> None:
    """Stop the job once the workflow's budget is spent (its tokens or its usd)."""
    budget = run.budget
    assert budget is not None
    tokens = run.job.tokens + run.tokens
    cost = run.job.cost_usd + run.cost_usd
    if budget.tokens is not None and tokens > budget.tokens:
        raise _BudgetSpent(f"workflow budget exceeded: {tokens} tokens > {budget.tokens}")
    if budget.usd is not None and cost > budget.usd:
        raise _BudgetSpent(f"workflow budget exceeded: ${cost:.6f} > ${budget.usd:g}")


def _shadow_line(record: Any) -> str:
    verdict = (
        "error: " + record.error if record.error else ("agrees" if record.agrees else "differs")
    )
    return f"shadow {record.ref} of {record.main_ref}: {verdict}"
