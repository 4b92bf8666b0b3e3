"""What a step kind is to the scheduler: a name, an executor, and whether it is a leaf."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentgo_cli.tools.registry import ToolContext

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["Executor", "StepKind", "tool_context"]

Executor = Callable[["Engine", "Run", Any, str, "Scope", int], Awaitable[tuple[Any, int, float]]]
"""(engine, run, step, key, scope, attempt) → (output, tokens, cost in usd)."""


@dataclass(frozen=True, slots=True)
class StepKind:
    """How the scheduler runs one kind of step."""

    name: str
    """The kind's name in step records and events ('agent', 'foreach', …)."""
    execute: Executor
    leaf: bool
    """True for steps that do work themselves (they wait for the workflow's
    max_concurrency); False for containers of other steps."""
    fields: dict[str, Any] = field(default_factory=dict)
    """The kind's own fields of ``steps.<id>`` beyond output, status and error, with their
    values when the step recorded none (a loop's ``exhausted``: False)."""
    scoped_inner: bool = True
    """For a container: whether its inner steps are ``steps.<id>`` outside it (a foreach's
    are; a team's role turns are not), so a resume puts their records back in scope."""

    def scope_fields(self, recorded: dict[str, Any] | None) -> dict[str, Any] | None:
        """The kind's own fields as a step recorded them (``StepRecord.extra``), else their
        defaults; None for a kind without any."""
        if not self.fields:
            return None
        recorded = recorded or {}
        return {k: recorded[k] if k in recorded else copy.copy(v) for k, v in self.fields.items()}


def tool_context(run: Run, key: str, attempt: int) -> ToolContext:
    """What the tools of one step attempt learn about it (the key is stable across retries)."""
    job_id = run.job.id
    return ToolContext(
        job_id=job_id, step_id=key, attempt=attempt, idempotency_key=f"{job_id}:{key}"
    )
