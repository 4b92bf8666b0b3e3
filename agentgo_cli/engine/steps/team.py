"""The team step: not available in this version (the teams feature comes later)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.errors import StepError
from agentgo_cli.manifests.models.workflow import TeamStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: TeamStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Fail the step: teams are not available yet."""
    raise StepError(f"team '{step.team}': teams are not available in this version")


KIND = StepKind("team", execute, leaf=True)
