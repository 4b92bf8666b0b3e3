"""The tool step: one tool call with rendered arguments; its result must be JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.steps.base import StepKind, tool_context
from agentgo_cli.errors import StepError
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.workflow import ToolStep
from agentgo_cli.store.base import encode_json

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: ToolStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Call the step's tool; StepError when its result is not JSON."""
    args = render(step.with_, scope.values)
    result = await engine.tools.call(step.tool, args, tool_context(run, key, attempt))
    try:
        encode_json(result)  # standard JSON, as the store keeps it: no NaN, not too deep
    except (TypeError, ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise StepError(f"tool '{step.tool}' returned a value that is not JSON: {reason}") from None
    return result, 0, 0.0


KIND = StepKind("tool", execute, leaf=True)
