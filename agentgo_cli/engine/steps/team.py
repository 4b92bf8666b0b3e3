"""The team step: a team's protocol run on an input, each role turn a step of the job.

The turns are recorded under the team step's key (``steps/role.py``; the keys are the
protocols', see ``teams/``), so a resumed job replays the finished turns from their
records and plays only the rest. The turns count their own cost on the job; the team
step's record notes the protocol's summary (rounds, bids, who answered, …).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.engine.roles import may_fail
from agentgo_cli.engine.state import Scope, StepFailed
from agentgo_cli.engine.steps.base import StepKind
from agentgo_cli.engine.steps.role import RoleTurn
from agentgo_cli.errors import StepError
from agentgo_cli.expr import render
from agentgo_cli.manifests.models.team import TeamManifest
from agentgo_cli.manifests.models.workflow import TeamStep
from agentgo_cli.store.base import StepStatus
from agentgo_cli.teams.context import Handoff
from agentgo_cli.teams.coordinator import TeamRun, Turn, TurnResult, run_team

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run

__all__ = ["KIND", "execute", "team_of"]


def team_of(engine: Engine, name: str) -> TeamManifest:
    """The team of that name; StepError when the set has none."""
    team = engine.teams.get(name)
    if not isinstance(team, TeamManifest):
        raise StepError(f"unknown team '{name}'")
    return team


async def execute(
    engine: Engine, run: Run, step: TeamStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Run the team on the step's input; its output is the team's."""
    team = team_of(engine, step.team)
    task = render(step.input, scope.values)
    job = run.job
    team_run = TeamRun.begin(
        team,
        _StepTurns(engine, run, key),
        engine.store,
        run_id=f"{job.id}:{key}",
        job_id=job.id,
        principal=job.principal or engine.principal,
        owner=engine.owner,
        features=engine.agent_calls.features,
    )
    try:
        return await run_team(team_run, task), 0, 0.0  # the turns count their own cost
    finally:
        run.details[key] = {
            "protocol": team.spec.protocol,  # also when the protocol failed
            **team_run.summary,
            "rounds": team_run.rounds,
            "tokens": team_run.tokens,
            "cost_usd": team_run.cost_usd,
        }


class _StepTurns:
    """Plays a team step's turns as step records under its key."""

    def __init__(self, engine: Engine, run: Run, key: str) -> None:
        self.engine = engine
        self.run = run
        self.key = key

    async def __call__(self, team: TeamRun, turn: Turn) -> TurnResult:
        key = self.key + turn.suffix
        record = self.run.done.get(key)
        if record is not None:  # finished before this process: its record answers
            if record.status != StepStatus.SUCCEEDED and not may_fail(turn):
                raise StepFailed.of_record(record)
            extra = record.extra or {}
            moved = extra.get("handoff")
            handoff = Handoff(moved["to"], moved.get("message", "")) if moved else None
            return TurnResult(
                record.status == StepStatus.SUCCEEDED,
                record.output,
                extra.get("agent"),
                record.error,
                record.tokens,
                record.cost_usd,
                handoff,
                {k: extra[k] for k in turn.note if k in extra},
                replayed=True,
            )
        step = RoleTurn(turn.stage, turn, team, may_fail(turn))
        output = await self.engine.run_step(self.run, step, key, Scope({"steps": {}}))
        played = step.played
        if played is None:  # it failed, and the protocol decides what that means
            if step.failure is not None:
                return step.failure.result(turn)
            return TurnResult(False, None, None, "failed", note=turn.note)  # not the agents'
        return played.result(turn, output)


KIND = StepKind("team", execute, leaf=False, scoped_inner=False)
