"""The loop step: its body again until ``until`` holds or the iterations run out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.state import merge_inner
from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.workflow import LoopStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: LoopStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Run the body (keys ``<key>#<iteration>.<id>``); output the last iteration's last
    output."""
    last: Any = None
    inner = scope
    for iteration in range(1, step.loop.max_iterations + 1):
        inner = scope.child(loop={"iteration": iteration})
        last = await engine.run_steps(run, step.loop.steps, f"{key}#{iteration}.", inner)
        if step.loop.until is not None and render(step.loop.until, inner.values):
            break
    merge_inner(scope, [inner], step.loop.steps)
    return last, 0, 0.0


KIND = StepKind("loop", execute, leaf=False)
