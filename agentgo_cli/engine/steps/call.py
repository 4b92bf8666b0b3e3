"""The call step: a typed call between agents, through the whole call lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.workflow import CallStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: CallStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Call the step's intent as the job's principal; the callee's cost is the step's."""
    value = render(step.input, scope.values)
    parent = engine.agent_calls.root_context(run, None, key)
    outcome = await engine.calls.call(step.call, value, parent=parent)
    return outcome.output, outcome.tokens, outcome.cost_usd


KIND = StepKind("call", execute, leaf=True)
