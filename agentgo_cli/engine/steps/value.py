"""The value step: computes a value from its expressions; no model, no tool, no cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.workflow import ValueStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: ValueStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Render the step's value in scope: that is its output (recorded like any other, so a
    resume reads it back instead of computing it again)."""
    return render(step.value, scope.values), 0, 0.0


KIND = StepKind("value", execute, leaf=True)
