"""What model calls cost, step by step and per job, and the budgets that stop them.

The scripted model is free unless agentgo.yaml prices it, which these tests do: every turn
of `writer` (10 + 5 tokens) then costs 10 * 2 + 5 * 4 = 40 millionths of a dollar.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import JobDetailView, RunRequest
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow

Write = Callable[[str, str], Path]

PRICED = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
providers:
  scripted:
    prices: {demo: {input: 2.0, output: 4.0}}
"""
TURN = 10 * 2.0 / 1e6 + 5 * 4.0 / 1e6

AGENTS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: looper}
spec:
  model: scripted:demo
  tools: [echo]
  script:
    - tool: {name: echo, args: {text: "one"}}
    - tool: {name: echo, args: {text: "two"}}
    - reply: "done"
  usage: {input_tokens: 10, output_tokens: 5}
  budget: {usd: 0.00005}
"""


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", PRICED)
    write("m/common.yaml", COMMON)
    write("m/agents.yaml", AGENTS)
    return write


async def run() -> JobDetailView:
    async with LocalBackend() as backend:
        job = await backend.run(RunRequest(workflow="wf"))
        return await backend.job(job.job_id)


async def test_each_step_records_its_cost_and_the_job_adds_them_up(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: a
            agent: writer
            prompt: "x"
          - id: b
            agent: writer
            prompt: "y"
        """,
    )
    detail = await run()
    assert detail.status == "succeeded", detail.error
    assert [s.cost_usd for s in detail.steps] == [pytest.approx(TURN)] * 2
    assert detail.cost_usd == pytest.approx(2 * TURN)
    assert detail.tokens == 30


async def test_an_agent_over_its_usd_budget_fails_its_step(project: Write) -> None:
    workflow(
        project,
        """
        steps:
          - id: busy
            agent: looper
            prompt: "go"
        """,
    )
    detail = await run()
    (step,) = detail.steps
    # Turn 1 costs $0.00004, turn 2 brings it to $0.00008: over the $0.00005 budget.
    assert step.status == "failed"
    assert step.error == (
        "agent 'looper' exceeded its budget of $5e-05 (spent $0.000080 in 2 model turns)"
    )
    assert step.cost_usd == pytest.approx(2 * TURN)
    assert detail.cost_usd == pytest.approx(2 * TURN)
    assert detail.error == f"step 'busy' failed: {step.error}"


async def test_a_workflow_over_its_budget_stops_the_job(project: Write) -> None:
    workflow(
        project,
        """
        budget: {usd: 0.0001}
        steps:
          - id: a
            agent: writer
            prompt: "x"
          - id: b
            agent: writer
            prompt: "y"
          - id: c
            agent: writer
            prompt: "z"
          - id: never
            tool: echo
            with: {text: "not reached"}
        """,
    )
    detail = await run()
    assert detail.status == "failed"
    assert detail.error == "workflow budget exceeded: $0.000120 > $0.0001"
    assert [s.key for s in detail.steps] == ["a", "b", "c"]
    assert engine_tools.calls == {}


async def test_a_workflow_token_budget(project: Write) -> None:
    workflow(
        project,
        """
        budget: {tokens: 20}
        steps:
          - id: a
            agent: writer
            prompt: "x"
          - id: b
            agent: writer
            prompt: "y"
        """,
    )
    detail = await run()
    assert (detail.status, detail.error) == (
        "failed",
        "workflow budget exceeded: 30 tokens > 20",
    )
