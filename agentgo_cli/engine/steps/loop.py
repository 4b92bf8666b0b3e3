"""The loop step: its body again until ``until`` holds or the iterations run out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.state import log_line, merge_inner
from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.errors import StepError
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.workflow import KIND_STEP_FIELDS, LoopStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: LoopStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Run the body (keys ``<key>#<iteration>.<id>``); output the last iteration's last
    output.

    A loop whose ``until`` never held is *exhausted* (recorded on the step, and read as
    ``steps.<id>.exhausted``); it then fails or succeeds as ``on_exhausted`` says. A loop
    without ``until`` runs ``max_iterations`` by design, so it is never exhausted.
    """
    spec = step.loop
    last: Any = None
    inner = scope
    held = spec.until is None
    for iteration in range(1, spec.max_iterations + 1):
        inner = scope.child(loop={"iteration": iteration})
        last = await engine.run_steps(run, spec.steps, f"{key}#{iteration}.", inner)
        if spec.until is not None and render(spec.until, inner.values):
            held = True
            break
    merge_inner(scope, [inner], spec.steps)
    if not held:
        run.details[key] = {"exhausted": True}
        said = f"loop '{key}' stopped after {spec.max_iterations} iterations without meeting until"
        if spec.on_exhausted == "fail":
            raise StepError(f"{said} (on_exhausted: fail)")
        job = run.job.id
        await log_line(engine.store, run.observer, job, "step", said, None, run.redactor, run.lease)
    return last, 0, 0.0


KIND = StepKind("loop", execute, leaf=False, fields=KIND_STEP_FIELDS["loop"])
