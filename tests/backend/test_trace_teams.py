"""A team step in the trace: what its record and its role turns' records note (the protocol's
summary; the role, the agent that answered, the round, a swarm's handoff, the fallbacks that
failed) is in their nodes' detail, so ``jobs trace --step`` shows who did what."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import RunRequest, TraceRequest
from tests.engine.engine_tools import CONFIG, workflow

Write = Callable[[str, str], Path]

TEAM = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: triage}
spec:
  model: scripted:demo
  tools: [handoff]
  script:
    - tool: {name: handoff, args: {to: billing, message: "a refund"}}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: broken}
spec:
  model: scripted:demo
  max_turns: 1
  tools: [handoff]
  script:
    - tool: {name: handoff, args: {to: nobody}}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: biller}
spec:
  model: scripted:demo
  script:
    - reply: "refunded"
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: helpdesk}
spec:
  protocol: swarm
  roles:
    - {name: triage, agent: triage}
    - {name: billing, agent: broken, fallback_agents: [biller], on_failure: replace}
"""
BROKEN = {"agent": "broken", "error": "agent 'broken' did not finish within max_turns=1"}
"""The fallback that failed, as the billing turn notes it (``biller`` answered after it)."""


def write_helpdesk(write: Write, features: str = "swarm") -> None:
    """Write a project of the swarm team ``helpdesk`` and a workflow ``help`` that runs it as
    step ``desk`` on the task ``x``, with the feature flags ``features`` (a YAML list's items)."""
    write("agentgo.yaml", CONFIG + f"features: [{features}]\n")
    write("m/team.yaml", TEAM)
    workflow(write, "steps: [{id: desk, team: helpdesk, input: x}]", name="help")


async def test_a_team_and_its_turns_show_what_their_records_note(write: Write) -> None:
    write_helpdesk(write)
    async with LocalBackend() as backend:
        job = await backend.run(RunRequest(workflow="help"))
        assert job.status == "succeeded"

        async def detail(step: str) -> dict[str, object]:
            node = await backend.trace(TraceRequest(job_id=job.job_id, step=step))
            return node.detail

        assert await detail("desk") == {
            "step_id": "desk",
            "kind": "team",
            "attempt": 1,
            "output": "refunded",
            "protocol": "swarm",
            "rounds": 2,
            "answered_by": "billing",
            "handoffs": 1,
            "tokens": 0,
            "cost_usd": 0.0,
        }
        assert await detail("desk#1.triage") == {
            "step_id": "triage",
            "kind": "role",
            "attempt": 1,
            "output": "a refund",
            "role": "triage",
            "agent": "triage",
            "round": 1,
            "handoff": {"to": "billing", "message": "a refund"},
        }
        assert await detail("desk#2.billing") == {
            "step_id": "billing",
            "kind": "role",
            "attempt": 1,
            "output": "refunded",
            "role": "billing",
            "agent": "biller",
            "round": 2,
            "failed_agents": [BROKEN],
        }
