"""The team coordinator: one run of a team, its limits, and the protocol that drives it.

A team run is a sequence of role turns (one agent invocation each). The protocol
(``teams/<protocol>.py``) decides which role plays next and on what; the coordinator
counts the turns and what they cost, and enforces the team's limits between them; a
``TurnRunner`` plays each turn. The engine gives two runners: in a ``team:`` step each turn
is a step record in the job's log, so a resumed job replays the finished turns from their
records and never runs them again; behind a call (``agentgo call``, a ``call:`` step or the
``call_agent`` tool) the turns run in the call, their cost rolled up into it, as an agent's
model turns are.

Protocols are deterministic given their turns' results: replaying a run from recorded
turns takes the same path and gets the same keys.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentgo_cli.errors import StepError
from agentgo_cli.manifests.models.team import FEATURE_PROTOCOLS
from agentgo_cli.teams.context import Handoff, board_id

if TYPE_CHECKING:
    from agentgo_cli.manifests.models.team import Role, TeamManifest
    from agentgo_cli.store.base import TeamStore

__all__ = [
    "DEFAULT_SWARM_ROUNDS",
    "TeamRun",
    "Turn",
    "TurnResult",
    "TurnRunner",
    "gather",
    "role_id",
    "run_team",
]

DEFAULT_SWARM_ROUNDS = 20
"""A swarm's max_rounds when its team sets none: handoffs must end somewhere."""


def role_id(name: str) -> str:
    """A role's name as a step id (keys allow letters, digits and '_': 'desk-writer' →
    'desk_writer'; names have no '_', so no two roles get the same id)."""
    return name.replace("-", "_")


# Not frozen: one is made per turn, and a frozen dataclass's __init__ costs 4x as much.
@dataclass(slots=True)
class Turn:
    """One role turn, as a protocol asks for it."""

    suffix: str
    """Appended to the team step's key: ``.plan``, ``[3].task``, ``#2.triage``."""
    stage: str
    """The turn's step id (``plan``, ``task``, ``merge``, a role id, ``bid_<role id>``)."""
    role: Role
    input: Any
    prompt: str | None = None
    mode: str = "work"
    """``work``; ``bid`` (the answer must be a bid, and a failure is no bid); ``swarm`` (the
    agent is given the ``handoff`` tool)."""
    note: dict[str, Any] = field(default_factory=dict)
    """Recorded with the turn (``extra``) and given back by a replay."""
    round: int = 0
    """The turn's number in the team run, from 1 (set by ``TeamRun.turn``)."""

    def numbered(self, round: int) -> Turn:
        """This turn as the ``round``-th of its run (``dataclasses.replace`` costs twice as
        much, on a path every turn takes)."""
        return Turn(
            self.suffix, self.stage, self.role, self.input, self.prompt, self.mode, self.note, round
        )


# Not frozen: one is made per turn, and a frozen dataclass's __init__ costs 4x as much.
@dataclass(slots=True)
class TurnResult:
    """What a turn gave: its output, or how it failed (only for turns that may fail)."""

    ok: bool
    output: Any
    agent: str | None
    """The agent that answered (a fallback's name when the role's own failed)."""
    error: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    handoff: Handoff | None = None
    """Swarm: where the agent handed control, if it did."""
    note: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False
    """True when the turn's record answered (a resumed run): nothing ran now."""


class TurnRunner(Protocol):
    """Plays one role turn for a team run (the engine's: a step record, or in a call)."""

    def __call__(self, team: TeamRun, turn: Turn) -> Awaitable[TurnResult]: ...


@dataclass
class TeamRun:
    """One run of a team: where its shared state lives, and what it has used so far."""

    team: TeamManifest
    runner: TurnRunner
    store: TeamStore
    run_id: str
    """``<job id>:<step key>`` for a team step, the call's span for a call."""
    board: str
    """The blackboard's id (``teams/context.board_id``)."""
    principal: str
    owner: str
    """Who claims todos for this run's workers (unique per process)."""
    rounds: int = 0
    """Role turns played (replayed ones too: a resumed run counts as it did)."""
    tokens: int = 0
    cost_usd: float = 0.0
    started: float = field(default_factory=time.monotonic)
    summary: dict[str, Any] = field(default_factory=dict)
    """What the protocol notes about the run (recorded with the team step)."""

    @classmethod
    def begin(
        cls,
        team: TeamManifest,
        runner: TurnRunner,
        store: TeamStore,
        *,
        run_id: str,
        job_id: str | None,
        principal: str,
        owner: str,
        features: Collection[str],
    ) -> TeamRun:
        """A new run of ``team``, its blackboard found by its scope (``board_id``; ``team``
        when it sets none); StepError when its protocol needs a feature not in ``features``."""
        protocol = team.spec.protocol
        if protocol in FEATURE_PROTOCOLS and protocol not in features:
            raise StepError(
                f"team '{team.name}': protocol '{protocol}' needs the '{protocol}' feature: "
                "add it to 'features:' in agentgo.yaml"
            )
        scope = team.spec.blackboard.scope if team.spec.blackboard else "team"
        board = board_id(scope, team=team.name, run_id=run_id, job_id=job_id, principal=principal)
        return cls(team, runner, store, run_id, board, principal, owner)

    @property
    def name(self) -> str:
        return self.team.name

    @functools.cached_property
    def role_names(self) -> tuple[str, ...]:
        """The team's role names, in order (every turn's context carries them)."""
        return tuple(role.name for role in self.team.spec.roles)

    def role(self, name: str) -> Role:
        for role in self.team.spec.roles:
            if role.name == name:
                return role
        raise StepError(f"team '{self.name}' has no role '{name}'")  # pragma: no cover

    def check_limits(self, before: Turn | None) -> None:
        """StepError when a limit is reached: checked before every turn (``before``) and
        after the last (None)."""
        limits = self.team.spec.limits
        max_rounds = limits.max_rounds if limits is not None else None
        if max_rounds is None and self.team.spec.protocol == "swarm":
            max_rounds = DEFAULT_SWARM_ROUNDS
        where = f"team '{self.name}'"
        if max_rounds is not None and self.rounds >= max_rounds and before is not None:
            raise StepError(
                f"{where} reached its max_rounds ({max_rounds} role turns) before {_named(before)}"
            )
        if limits is None:
            return
        if limits.cost_usd is not None and self.cost_usd > limits.cost_usd:
            raise StepError(
                f"{where} spent ${self.cost_usd:.6f}, over its cost_usd limit of "
                f"${limits.cost_usd:g}" + (f", before {_named(before)}" if before else "")
            )
        if limits.wallclock is not None:
            took = time.monotonic() - self.started
            if took > limits.wallclock.seconds:
                raise StepError(
                    f"{where} ran {took:.1f}s, over its wallclock limit of {limits.wallclock}"
                    + (f", before {_named(before)}" if before else "")
                )

    async def turn(self, turn: Turn) -> TurnResult:
        """Play one turn within the limits; count it and what it cost."""
        self.check_limits(turn)
        self.rounds += 1
        result = await self.runner(self, turn.numbered(self.rounds))
        self.tokens += result.tokens
        self.cost_usd += result.cost_usd
        return result


def _named(turn: Turn) -> str:
    """The turn as a limit's message names it: "the turn of role 'billing'", "the merge
    turn of role 'planner'"."""
    if turn.stage == role_id(turn.role.name):
        return f"the turn of role '{turn.role.name}'"
    return f"the {turn.stage} turn of role '{turn.role.name}'"


async def gather(coros: Iterable[Awaitable[Any]]) -> list[Any]:
    """Run at once; on the first failure cancel the others (and wait for them), then raise."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


Protocol_ = Callable[[TeamRun, Any], Awaitable[Any]]


@functools.cache
def _protocols() -> dict[str, Protocol_]:
    from agentgo_cli.teams import contract_net, pipeline, planner_workers, swarm

    return {
        "pipeline": pipeline.run,
        "planner-workers": planner_workers.run,
        "contract-net": contract_net.run,
        "swarm": swarm.run,
    }


async def run_team(run: TeamRun, task: Any) -> Any:
    """Run the team on ``task`` by its protocol; its output. StepError when a limit is
    reached or a role that must not fail (``on_failure: abort``) fails."""
    protocol = _protocols()[run.team.spec.protocol]
    output = await protocol(run, task)
    run.check_limits(None)
    run.summary.update(protocol=run.team.spec.protocol, rounds=run.rounds)
    return output
