"""The role turn: one turn of a team run, as a step record of its own (kind ``role``).

A ``team:`` step (``steps/team.py``) runs its protocol; each turn the protocol asks for is
run through the scheduler as a ``RoleTurn`` step under the team step's key, so it is
recorded, counted on the job, shown in progress and traces, and never run again once
finished. ``RoleTurn`` is the engine's own step object: no manifest writes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.roles import Played, RoleFailed, Seat, play
from agentgo_cli.engine.state import log_line
from agentgo_cli.engine.steps.base import StepKind, tool_context

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope
    from agentgo_cli.teams.coordinator import TeamRun, Turn

__all__ = ["KIND", "RoleTurn", "execute"]


@dataclass
class RoleTurn:
    """A role turn as the scheduler runs it (the fields every step has, and the turn)."""

    id: str
    turn: Turn
    team: TeamRun
    continue_on_error: bool
    if_: None = None
    retry: None = None
    timeout: None = None
    played: Played | None = None
    """What the turn gave, once it answered."""
    failure: RoleFailed | None = None
    """How it failed, when it did."""


async def execute(
    engine: Engine, run: Run, step: RoleTurn, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Play the turn; its record notes the role, the agent that answered, the round."""
    turn, team = step.turn, step.team
    details: dict[str, Any] = {"role": turn.role.name, "round": turn.round, **turn.note}

    async def note(line: str) -> None:
        await log_line(
            engine.store,
            run.observer,
            run.job.id,
            "step",
            f"{key}: {line}",
            None,
            run.redactor,
            run.lease,
        )

    seat = Seat(
        agents=engine.agents,
        tools=engine.tools,
        tool_ctx=tool_context(run, key, attempt),
        client=lambda agent: engine.clients.client_for(run, agent),
        calls=lambda name: engine.agent_calls.root_context(run, name, key, via=f"team:{team.name}"),
        observer=run.observer,
        redactor=engine.redactor,
        stream=run.stream,
        note=note,
    )
    try:
        played = await play(team, turn, seat, f"{engine.owner}/{run.job.id}/{key}")
    except RoleFailed as exc:
        details["failed_agents"] = exc.failed
        run.details[key] = details
        step.failure = exc
        raise
    details["agent"] = played.agent
    if played.failed:
        details["failed_agents"] = played.failed
    if played.handoff is not None:
        details["handoff"] = {"to": played.handoff.to, "message": played.handoff.message}
    run.details[key] = details
    step.played = played
    return played.output, played.tokens, played.cost_usd


KIND = StepKind("role", execute, leaf=True)
