"""The foreach step: its body once per item, at most ``max_concurrency`` at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.state import gather, merge_inner
from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.errors import StepError
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.workflow import ForeachStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: ForeachStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Run the body for every item (keys ``<key>[<index>].<id>``); output the list of the
    bodies' last outputs."""
    items = render(step.foreach, scope.values)
    if not isinstance(items, list):
        raise StepError(f"foreach needs a list, got {type(items).__name__}")
    limit = asyncio.Semaphore(step.max_concurrency) if step.max_concurrency else None
    scopes: list[Scope] = []

    async def one(index: int, item: Any) -> Any:
        inner = scope.child(**{step.as_: item, "index": index})
        scopes.append(inner)
        if limit is None:
            return await engine.run_steps(run, step.steps, f"{key}[{index}].", inner)
        async with limit:
            return await engine.run_steps(run, step.steps, f"{key}[{index}].", inner)

    results = await gather(one(i, item) for i, item in enumerate(items))
    merge_inner(scope, scopes, step.steps)
    return results, 0, 0.0


KIND = StepKind("foreach", execute, leaf=False)
