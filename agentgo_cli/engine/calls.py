"""The engine's side of calls between agents: its catalog, the call lifecycle over it, the
dispatcher that runs a call's target agent, and the built-in tools that call and find agents.

``AgentCalls`` is composed into the Engine (``engine.agent_calls``) and given what it needs
explicitly: the manifest set, the agents and tools, the model hub, who jobs run for, the
jobs running here and how to make a model client counted on a job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentgo_cli.a2a.catalog import Catalog, CatalogEntry
from agentgo_cli.a2a.lifecycle import CURRENT, CallContext, CallService, Dispatched, Spend
from agentgo_cli.a2a.task_workflow import job_trace
from agentgo_cli.engine.agent import run_agent
from agentgo_cli.engine.state import CALLING_TOOLS, Run
from agentgo_cli.errors import CallError, StepError
from agentgo_cli.expr import render
from agentgo_cli.manifests.models import AgentManifest
from agentgo_cli.observer import LogLine
from agentgo_cli.tools.registry import Builtin, ToolContext, ToolRegistry

if TYPE_CHECKING:
    from agentgo_cli.llm.base import Client
    from agentgo_cli.llm.hub import ModelHub
    from agentgo_cli.manifests.manifest_set import ManifestSet
    from agentgo_cli.observer import Observer, Redactor
    from agentgo_cli.store.base import JobStore
    from agentgo_cli.teams.coordinator import TeamRun, Turn, TurnResult

__all__ = ["AgentCalls", "calls_possible"]


def calls_possible(agent: AgentManifest) -> bool:
    """Whether an agent has a tool that calls or finds other agents."""
    return any(t in CALLING_TOOLS for t in agent.spec.tools)


class AgentCalls:
    """Calls between the agents of one manifest set, for the jobs of one engine."""

    def __init__(
        self,
        store: JobStore,
        mset: ManifestSet,
        *,
        agents: dict[str, Any],
        tools: ToolRegistry,
        models: ModelHub,
        principal: str,
        scopes: frozenset[str],
        runs: dict[str, Run],
        client_for: Callable[[Run, AgentManifest], Client],
        observer: Observer | None = None,
        redactor: Redactor | None = None,
        teams: dict[str, Any] | None = None,
        owner: str = "",
        features: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.mset = mset
        self.agents = agents
        self.tools = tools
        self.models = models
        self.principal = principal
        self.scopes = scopes
        self._runs = runs
        """The jobs running here, by id (calls dispatched for them find their job)."""
        self._client_for = client_for
        self.teams = teams or {}
        self.owner = owner
        """Who claims todos for the teams run here (the engine's owner id)."""
        self.features = features
        self.observer = observer
        self.redactor = redactor
        self._catalog: Catalog | None = None
        self._service: CallService | None = None

    @property
    def catalog(self) -> Catalog:
        """The intents of the manifest set (made on first use)."""
        if self._catalog is None:
            self._catalog = Catalog.from_set(self.mset)
        return self._catalog

    @property
    def service(self) -> CallService:
        """The call lifecycle over this catalog, dispatching to these agents."""
        if self._service is None:
            from agentgo_cli.a2a.idempotency import Idempotency
            from agentgo_cli.a2a.quota import Quotas

            self._service = CallService(
                lambda: self.catalog,
                self.dispatch,
                quotas=Quotas(self.store),
                idempotency=Idempotency(self.store),
                observer=self.observer,
                redactor=self.redactor,
            )
        return self._service

    def root_context(
        self, run: Run, agent: str | None, key: str | None = None, *, via: str | None = None
    ) -> CallContext:
        """The call context of one step of a job (``key``): the job's principal, the job's
        trace, and a fresh Spend that the step's callees add to. ``via``: the team the
        agent plays a role in (``team:<name>``), which the chain passes through."""
        job = run.job
        principal = job.principal or self.principal
        scopes = frozenset(job.scopes) if job.principal else self.scopes
        chain: tuple[str, ...] = (principal,) if via is None else (principal, via)
        if agent is not None:
            chain = (*chain, f"agent:{agent}")
        job_id = job.id
        if run.trace is None:  # an A2A task's job continues its request's trace
            run.trace = job_trace(job.workflow, job.inputs)
        observer = run.observer

        async def log(record: dict[str, Any]) -> None:
            chain_text = " > ".join(record["chain"])
            message = f"call {record['intent']} by {chain_text}" + (
                " (replayed)" if record["replayed"] else ""
            )
            if observer is not None:
                redactor = self.redactor
                shown = (redactor.text(message), redactor.value(record)) if redactor else None
                observer.emit(LogLine(job_id, "call", *(shown or (message, record))))
            await self.store.add_event(job_id, "call", message, record, lease=run.lease)

        return CallContext(principal, scopes, chain, run.trace.child(), Spend(), job_id, log, key)

    async def dispatch(self, entry: CatalogEntry, value: Any, ctx: CallContext) -> Dispatched:
        """Run a call's target agent as the caller's principal (CallService's dispatcher)."""
        if entry.target_kind == "team":
            return await self._team(entry, value, ctx)
        if entry.target_kind == "a2a":
            return await self._remote(entry, value, ctx)
        agent = self.agents.get(entry.target_name)
        if not isinstance(agent, AgentManifest):
            raise CallError("not_found", f"{entry.ref}: its target {entry.target} is not here")
        intent = entry.intent
        if entry.synthetic:  # the task as text: the lifecycle checked SYNTHETIC_INPUT
            prompt, given = str(value), None
        elif intent.prompt:
            prompt, given = str(render(intent.prompt, {"input": value})), None
        else:
            prompt, given = None, value
        tool_ctx = ToolContext(
            job_id=ctx.job_id or "",
            step_id=entry.ref,
            attempt=1,
            idempotency_key=f"{ctx.trace.trace_id}:{ctx.trace.span_id}",
            span=ctx.trace.span_id,
        )
        run = self._runs.get(ctx.job_id) if ctx.job_id else None
        client = self._client(run, agent)
        result = await run_agent(
            agent,
            prompt=prompt,
            input=given,
            tools=self.tools,
            ctx=tool_ctx,
            client=client,
            observer=self.observer if run is None else run.observer,
            redactor=self.redactor,
        )
        return Dispatched(
            result.output,
            result.usage.total + ctx.spend.tokens,
            result.cost_usd + ctx.spend.usd,
        )

    async def _remote(self, entry: CatalogEntry, value: Any, ctx: CallContext) -> Dispatched:
        """Call a remote A2A agent (``target: a2a:<url>``) with the a2a-sdk client."""
        from agentgo_cli.a2a.remote import call_remote

        timeout = entry.intent.timeout.seconds if entry.intent.timeout else None
        return await call_remote(entry, value, ctx, seconds=timeout)

    def _client(self, run: Run | None, agent: AgentManifest) -> Client:
        """The model client of an agent a call runs: counted and shadow-logged on the root
        caller's job when it runs here (scripted models cost nothing to count)."""
        if run is not None and agent.spec.model_ref.provider != "scripted":
            return self._client_for(run, agent)
        return self.models.client_for(agent.spec)

    async def _team(self, entry: CatalogEntry, value: Any, ctx: CallContext) -> Dispatched:
        """Run a call's target team: its turns run in the call (no step records), their
        cost and their agents' calls rolled up into the call's."""
        from agentgo_cli.manifests.models.team import TeamManifest
        from agentgo_cli.teams.coordinator import TeamRun, run_team

        team = self.teams.get(entry.target_name)
        if not isinstance(team, TeamManifest):
            raise CallError("not_found", f"{entry.ref}: its target {entry.target} is not here")
        intent = entry.intent
        task = str(render(intent.prompt, {"input": value})) if intent.prompt else value
        team_run = TeamRun.begin(  # a protocol not enabled: the call fails (StepError)
            team,
            _CallTurns(self, ctx),
            self.store,
            run_id=f"call:{ctx.trace.trace_id}:{ctx.trace.span_id}",
            job_id=ctx.job_id,
            principal=ctx.principal,
            owner=self.owner,
            features=self.features,
        )
        output = await run_team(team_run, task)
        # The turns' agents call others under contexts of their own (``ctx.below``), whose
        # spend their turns count: the team's totals are the call's.
        return Dispatched(output, team_run.tokens, team_run.cost_usd)

    def builtin_tools(self) -> dict[str, Builtin]:
        """The built-in tools that call and find agents, bound to this catalog."""

        async def call_agent(args: dict[str, Any], tool_ctx: ToolContext) -> Any:
            parent = CURRENT.get()
            if parent is None:
                raise StepError("call_agent: no call context (run it from an agent)")
            try:
                outcome = await self.service.call(
                    args["intent"],
                    args["input"],
                    parent=parent,
                    idempotency_key=args.get("idempotency_key"),
                )
            except CallError as exc:
                raise StepError(f"call_agent: {exc.code}: {exc}") from None
            return outcome.output

        async def discover_agents(args: dict[str, Any], tool_ctx: ToolContext) -> Any:
            from agentgo_cli.a2a.discovery import discover

            return discover(self.catalog, query=args.get("query"), allowed=self._may_call())

        async def route_intent(args: dict[str, Any], tool_ctx: ToolContext) -> Any:
            from agentgo_cli.a2a.discovery import route_intent as route

            found = route(self.catalog, args["task"], allowed=self._may_call())
            return [dataclasses.asdict(r) for r in found]

        return {
            "call_agent": call_agent,
            "discover_agents": discover_agents,
            "route_intent": route_intent,
        }

    def _may_call(self) -> Callable[[CatalogEntry], bool]:
        """Whether the agent running now may call an intent (discovery shows no other)."""
        from agentgo_cli.a2a.acl import Caller, check_access

        ctx = CURRENT.get()
        if ctx is None:
            caller = Caller(self.principal, self.scopes, (self.principal,))
        else:
            caller = Caller(ctx.principal, ctx.scopes, ctx.chain)
        return lambda entry: check_access(entry.intent, caller) is None


class _CallTurns:
    """Plays the turns of a team reached by a call, inside the call."""

    def __init__(self, calls: AgentCalls, ctx: CallContext) -> None:
        self.calls = calls
        self.ctx = ctx

    async def __call__(self, team: TeamRun, turn: Turn) -> TurnResult:
        from agentgo_cli.engine.roles import RoleFailed, Seat, may_fail, play

        calls, ctx = self.calls, self.ctx
        run = calls._runs.get(ctx.job_id) if ctx.job_id else None
        seat = Seat(
            agents=calls.agents,
            tools=calls.tools,
            tool_ctx=ToolContext(
                job_id=ctx.job_id or "",
                step_id=f"{team.run_id}{turn.suffix}",
                attempt=1,
                idempotency_key=f"{team.run_id}{turn.suffix}",
                span=ctx.trace.span_id,
            ),
            client=lambda agent: calls._client(run, agent),
            calls=lambda name: ctx.below(f"agent:{name}"),
            observer=calls.observer if run is None else run.observer,
            redactor=calls.redactor,
        )
        try:
            played = await play(team, turn, seat, f"{calls.owner}/{team.run_id}{turn.suffix}")
        except RoleFailed as exc:
            if not may_fail(turn):
                raise
            return exc.result(turn)
        return played.result(turn, played.output)
