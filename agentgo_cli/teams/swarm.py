"""swarm: one role holds control and may hand it to another with the ``handoff`` tool.

The first role listed holds control first. Each round the active role's agent gets the
task (and, after a handoff, who handed it over and their message) and the built-in
``handoff(to, message)`` tool: calling it ends the turn and gives control to role ``to``.
The run ends when an agent answers without handing off: its answer is the team's output.
It fails when ``limits.max_rounds`` turns (20 when unset) were played without an answer.
Turn keys: ``<team key>#<round>.<role id>``. A role that fails with ``on_failure: skip``
gives control back to the role that handed it over (the first role cannot be skipped).
"""

from __future__ import annotations

from typing import Any

from agentgo_cli.errors import StepError
from agentgo_cli.teams.coordinator import TeamRun, Turn, role_id

__all__ = ["run"]


async def run(team: TeamRun, task: Any) -> Any:
    active = team.team.spec.roles[0]
    came_from: list[Any] = []  # who handed control to whom, for a skipped role
    prompt: str | None = None
    handoffs = 0
    n = 0
    while True:
        n += 1
        rid = role_id(active.name)
        result = await team.turn(Turn(f"#{n}.{rid}", rid, active, task, prompt, "swarm"))
        if not result.ok:
            if not came_from:
                raise StepError(f"team '{team.name}': {active.name} failed: {result.error}")
            back = came_from.pop()
            prompt = f"{active.name} could not take the task ({result.error}); it is yours again."
            active = back
            continue
        handoff = result.handoff
        if handoff is None or handoff.to is None:
            team.summary.update(answered_by=active.name, handoffs=handoffs)
            return result.output
        handoffs += 1
        came_from.append(active)
        prompt = f"{active.name} handed the task to you: {handoff.message}"
        active = team.role(handoff.to)
