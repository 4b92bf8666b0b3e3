"""The foreach step: its body once per item, at most ``max_concurrency`` at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.state import StepFailed, gather, merge_inner
from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.errors import StepError
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.workflow import KIND_STEP_FIELDS, ForeachStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: ForeachStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Run the body for every item (keys ``<key>[<index>].<id>``); output the list of the
    bodies' last outputs.

    With ``on_item_error: continue`` a failed item does not stop the others: its element is
    null, and ``{index, step, error}`` (the innermost failed step) is noted in the step's
    ``errors``, in item order.
    """
    items = render(step.foreach, scope.values)
    if not isinstance(items, list):
        raise StepError(f"foreach needs a list, got {type(items).__name__}")
    limit = asyncio.Semaphore(step.max_concurrency) if step.max_concurrency else None
    scopes: list[Scope] = []
    errors: list[dict[str, Any]] = []
    go_on = step.on_item_error == "continue"

    async def body(index: int, inner: Scope) -> Any:
        try:
            return await engine.run_steps(run, step.steps, f"{key}[{index}].", inner)
        except StepFailed as exc:
            if not go_on:
                raise
            errors.append({"index": index, "step": exc.key, "error": exc.reason})
            return None

    async def one(index: int, item: Any) -> Any:
        inner = scope.child(**{step.as_: item, "index": index})
        scopes.append(inner)
        if limit is None:
            return await body(index, inner)
        async with limit:
            return await body(index, inner)

    results = await gather(one(i, item) for i, item in enumerate(items))
    merge_inner(scope, scopes, step.steps)
    if errors:
        run.details[key] = {"errors": sorted(errors, key=lambda e: e["index"])}
    return results, 0, 0.0


KIND = StepKind("foreach", execute, leaf=False, fields=KIND_STEP_FIELDS["foreach"])
