"""The parallel step: its branches at once, at most ``max_concurrency`` at a time."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.state import gather, merge_inner
from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.manifests.models.workflow import ParallelStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: ParallelStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Run every branch (keys ``<key>.<id>``); output an object keyed by branch id."""
    limit = asyncio.Semaphore(step.max_concurrency) if step.max_concurrency else None
    scopes: list[Scope] = []

    async def branch(inner_step: Any) -> Any:
        inner = scope.child()
        scopes.append(inner)
        if limit is None:
            return await engine.run_step(run, inner_step, f"{key}.{inner_step.id}", inner)
        async with limit:
            return await engine.run_step(run, inner_step, f"{key}.{inner_step.id}", inner)

    results = await gather(branch(s) for s in step.parallel)
    merge_inner(scope, scopes, step.parallel)
    return {s.id: r for s, r in zip(step.parallel, results, strict=True)}, 0, 0.0


KIND = StepKind("parallel", execute, leaf=False)
