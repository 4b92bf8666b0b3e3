"""One executor per step kind, found through one table.

A new step kind is one module here (its ``KIND``) and one line in ``KINDS``. The scheduler
does what every kind shares (records, retries, timeouts, ``if``, budgets) and calls the
kind's ``execute`` for the rest.
"""

from __future__ import annotations

from agentgo_cli.engine.steps import (
    agent,
    call,
    foreach,
    loop,
    parallel,
    role,
    team,
    tool,
    value,
)
from agentgo_cli.engine.steps.base import Executor, StepKind
from agentgo_cli.manifests.models.workflow import (
    AgentStep,
    CallStep,
    ForeachStep,
    LoopStep,
    ParallelStep,
    TeamStep,
    ToolStep,
    ValueStep,
)

__all__ = ["BY_NAME", "KINDS", "Executor", "StepKind"]

KINDS: dict[type, StepKind] = {
    AgentStep: agent.KIND,
    ToolStep: tool.KIND,
    CallStep: call.KIND,
    TeamStep: team.KIND,
    ForeachStep: foreach.KIND,
    LoopStep: loop.KIND,
    ParallelStep: parallel.KIND,
    ValueStep: value.KIND,
    role.RoleTurn: role.KIND,
}
"""The step kinds, by step class: the workflow model's, and the engine's own role turns."""

BY_NAME: dict[str, StepKind] = {k.name: k for k in KINDS.values()}
"""The step kinds by the name their records carry."""
