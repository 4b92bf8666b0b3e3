"""Playing one role turn of a team: the role's agent, else its fallbacks, in the team's context.

Used by both team runners: a ``team:`` step's (each turn a step record, ``steps/role.py``)
and a call's (``calls.py``). The caller says where the turn runs: its tool context, how to
make the agent's model client and call context, and where events go.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentgo_cli.a2a.lifecycle import CURRENT, CallContext
from agentgo_cli.engine.agent import SCHEMA_MISS, run_agent
from agentgo_cli.engine.calls import calls_possible
from agentgo_cli.errors import CallError, ProviderError, StepError
from agentgo_cli.manifests.models import AgentManifest
from agentgo_cli.teams.context import TEAM, Handoff, TeamContext
from agentgo_cli.teams.coordinator import TurnResult

if TYPE_CHECKING:
    from agentgo_cli.llm.base import Client
    from agentgo_cli.observer import Observer, Redactor
    from agentgo_cli.teams.coordinator import TeamRun, Turn
    from agentgo_cli.tools.registry import ToolContext, ToolRegistry

__all__ = ["Played", "RoleFailed", "Seat", "may_fail", "play"]

_ADAPTED: dict[tuple[int, str], tuple[AgentManifest, AgentManifest]] = {}
"""(id of an agent, mode) → (that agent, kept so that its id is not reused; its copy)."""


def may_fail(turn: Turn) -> bool:
    """Whether a turn's failure is a result the protocol acts on (a bid, a role that is
    skipped on failure) rather than the team's failure."""
    return turn.mode == "bid" or turn.role.on_failure == "skip"


@dataclass
class Played:
    """What a role turn gave."""

    output: Any
    agent: str
    tokens: int
    cost_usd: float
    handoff: Handoff | None = None
    failed: list[dict[str, str]] = field(default_factory=list)
    """The agents that failed before ``agent`` answered: [{agent, error}]."""

    def result(self, turn: Turn, output: Any) -> TurnResult:
        """The turn's result for its protocol (``output``: as recorded, else ``self.output``)."""
        return TurnResult(
            True, output, self.agent, None, self.tokens, self.cost_usd, self.handoff, turn.note
        )


class RoleFailed(StepError):
    """Every agent the role may use failed (``failed`` says how); tokens and cost spent."""

    def __init__(self, message: str, failed: list[dict[str, str]], tokens: int, usd: float):
        super().__init__(message)
        self.failed = failed
        self.tokens = tokens
        self.cost_usd = usd

    def result(self, turn: Turn) -> TurnResult:
        """The failed turn's result, for a protocol that acts on it (``may_fail``)."""
        return TurnResult(False, None, None, str(self), self.tokens, self.cost_usd, note=turn.note)


# Not frozen: one is made per turn, and a frozen dataclass's __init__ costs 4x as much.
@dataclass(slots=True)
class Seat:
    """Where a turn is played: what its agent is given."""

    agents: dict[str, Any]
    tools: ToolRegistry
    tool_ctx: ToolContext
    """The turn's tool context; a fallback agent's idempotency keys get ``:fallback-<n>``."""
    client: Callable[[AgentManifest], Client]
    calls: Callable[[str], CallContext | None]
    """The call context of an agent that may call others (None: it may not)."""
    observer: Observer | None = None
    redactor: Redactor | None = None
    stream: bool = False
    note: Callable[[str], Awaitable[None]] | None = None
    """Where a line goes when an agent fails and a fallback is tried (the job's log)."""


async def play(team: TeamRun, turn: Turn, seat: Seat, worker: str) -> Played:
    """Play ``turn``: the role's agent, then (``on_failure: replace``) its fallback agents in
    order, until one answers. RoleFailed when none does. ``worker`` is the turn's claim
    owner for the todo tools."""
    role = turn.role
    names = [role.agent]
    if role.on_failure == "replace" and turn.mode != "bid":
        names += role.fallback_agents
    failed: list[dict[str, str]] = []
    tokens, usd = 0, 0.0
    roles = team.role_names
    for n, name in enumerate(names):
        agent = seat.agents.get(name)
        if not isinstance(agent, AgentManifest):
            failed.append({"agent": name, "error": "no such agent"})
            continue
        agent = _adapted(agent, turn.mode)
        holder = Handoff() if turn.mode == "swarm" else None
        context = TeamContext(
            team=team.name,
            role=role.name,
            board=team.board,
            todos=str(team.summary.get("todos", team.run_id)),
            worker=worker,
            principal=team.principal,
            roles=roles,
            handoff=holder,
        )
        ctx = seat.tool_ctx
        if n:
            ctx = dataclasses.replace(ctx, idempotency_key=f"{ctx.idempotency_key}:fallback-{n}")
        calls = seat.calls(name) if calls_possible(agent) else None
        team_token = TEAM.set(context)
        call_token = CURRENT.set(calls) if calls is not None else None
        try:
            result = await run_agent(
                agent,
                prompt=turn.prompt,
                input=turn.input,
                tools=seat.tools,
                ctx=ctx,
                client=seat.client(agent),
                observer=seat.observer,
                redactor=seat.redactor,
                stream=seat.stream,
                ends_on=frozenset({"handoff"}) if holder is not None else frozenset(),
            )
        except (StepError, ProviderError, CallError) as exc:
            tokens += getattr(exc, "tokens", 0)
            usd += getattr(exc, "cost_usd", 0.0)
            error = str(exc)
            if turn.mode == "bid":  # the schema is the bid's, not one the agent declares
                error = error.replace(
                    f"agent '{name}' {SCHEMA_MISS}", f"agent '{name}' answered no bid: ", 1
                )
            failed.append({"agent": name, "error": error})
            if seat.note is not None and n + 1 < len(names):
                await seat.note(f"{role.name}: {name} failed ({exc}); trying {names[n + 1]}")
            continue
        finally:
            if call_token is not None:
                CURRENT.reset(call_token)
            TEAM.reset(team_token)
        spent = calls.spend if calls is not None else None
        tokens += result.usage.total + (spent.tokens if spent else 0)
        usd += result.cost_usd + (spent.usd if spent else 0.0)
        output = result.output
        if result.ended_by == "handoff" and holder is not None:
            output = holder.message
        return Played(output, name, tokens, usd, holder if holder and holder.to else None, failed)
    if len(failed) == 1:  # the agent's own error says it all
        raise RoleFailed(failed[0]["error"], failed, tokens, usd)
    tried = "; ".join(f"{f['agent']}: {f['error']}" for f in failed)
    raise RoleFailed(f"role '{role.name}': every agent failed ({tried})", failed, tokens, usd)


def _adapted(agent: AgentManifest, mode: str) -> AgentManifest:
    """The agent as a turn of ``mode`` needs it: a bidder answers a bid (not its own
    output_schema); a swarm member has the ``handoff`` tool."""
    if mode == "work":
        return agent
    cache_key = (id(agent), mode)
    cached = _ADAPTED.get(cache_key)
    if cached is not None and cached[0] is agent:
        return cached[1]
    if mode == "bid":
        from agentgo_cli.teams.contract_net import BID_SCHEMA

        spec = agent.spec.model_copy(update={"output_schema": BID_SCHEMA})
    else:
        tools = agent.spec.tools
        spec = agent.spec.model_copy(
            update={"tools": tools if "handoff" in tools else [*tools, "handoff"]}
        )
    adapted = agent.model_copy(update={"spec": spec})
    _ADAPTED[cache_key] = (agent, adapted)
    return adapted
