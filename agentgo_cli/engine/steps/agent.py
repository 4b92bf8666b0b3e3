"""The agent step: one agent invocation, as the job's principal when it may call agents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgo_cli.a2a.lifecycle import CURRENT
from agentgo_cli.engine.agent import run_agent
from agentgo_cli.engine.calls import calls_possible
from agentgo_cli.engine.steps.base import StepKind, tool_context
from agentgo_cli.errors import StepError
from agentgo_cli.expr import render
from agentgo_cli.manifests.models import AgentManifest
from agentgo_cli.manifests.models.workflow import AgentStep

if TYPE_CHECKING:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.engine.state import Run, Scope

__all__ = ["KIND", "execute"]


async def execute(
    engine: Engine, run: Run, step: AgentStep, key: str, scope: Scope, attempt: int
) -> tuple[Any, int, float]:
    """Run the step's agent on its prompt and input; its calls' cost counts as the step's."""
    agent = engine.agents.get(step.agent)
    if not isinstance(agent, AgentManifest):
        raise StepError(f"unknown agent '{step.agent}'")
    prompt = render(step.prompt, scope.values) if step.prompt is not None else None
    value = render(step.input, scope.values)
    calls = engine.agent_calls.root_context(run, step.agent, key) if calls_possible(agent) else None
    token = CURRENT.set(calls) if calls is not None else None
    try:
        result = await run_agent(
            agent,
            prompt=None if prompt is None else str(prompt),
            input=value,
            tools=engine.tools,
            ctx=tool_context(run, key, attempt),
            client=engine.clients.client_for(run, agent),
            observer=run.observer,
            redactor=engine.redactor,
            stream=run.stream,
        )
    finally:
        if token is not None:
            CURRENT.reset(token)
    if calls is None:
        return result.output, result.usage.total, result.cost_usd
    spent = calls.spend  # what the agent's calls to other agents cost
    return result.output, result.usage.total + spent.tokens, result.cost_usd + spent.usd


KIND = StepKind("agent", execute, leaf=True)
