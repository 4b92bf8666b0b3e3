"""A team's steps in the live stream of a job running here: each finished step event says
what its record says (a role turn's ``turn``, a team step's ``team``), secrets masked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import RunRequest, StepView
from tests.backend.test_trace_teams import BROKEN, write_helpdesk
from tests.engine.engine_tools import workflow

Write = Callable[[str, str], Path]

SECRET = "sk-team-watch-0123456789"

LEAKY = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: leaker}
spec:
  model: scripted:demo
  script:
    - tool: {name: handoff, args: {to: billing, message: "refund for ${{ input }}"}}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: leakdesk}
spec:
  protocol: swarm
  roles:
    - {name: triage, agent: leaker}
    - {name: billing, agent: biller}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write_helpdesk(write)
    write("m/leakdesk.yaml", LEAKY)
    leaky = "steps: [{id: desk, team: leakdesk, input: '${{ inputs.k }}'}]"
    workflow(write, "inputs: {k: {type: string}}\n" + leaky, name="leaky")
    return write


async def _watched(backend: LocalBackend, request: RunRequest) -> tuple[str, dict[str, StepView]]:
    """Run a job here and watch it: its id and its steps as their last events show them."""
    job = await backend.submit(request)
    events = [e async for e in backend.watch(job.job_id)]
    return job.job_id, {e.step.key: e.step for e in events if e.step is not None}


async def test_finished_team_steps_carry_their_notes_as_their_records_do(project: Write) -> None:
    async with LocalBackend() as backend:
        job_id, live = await _watched(backend, RunRequest(workflow="help"))
        stored = {s.key: s for s in (await backend.job(job_id)).steps}
    assert set(live) == set(stored) == {"desk", "desk#1.triage", "desk#2.billing"}
    for key, step in live.items():
        assert (step.turn, step.team) == (stored[key].turn, stored[key].team), key
    assert live["desk#2.billing"].turn is not None
    assert live["desk#2.billing"].turn.model_dump(exclude_defaults=True) == {
        "role": "billing",
        "agent": "biller",
        "round": 2,
        "failed_agents": [BROKEN],
    }
    assert live["desk"].team is not None
    assert (live["desk"].team.protocol, live["desk"].team.answered_by) == ("swarm", "billing")


async def test_a_secret_in_a_handoff_is_masked_in_the_live_event(
    project: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    async with LocalBackend() as backend:
        _, live = await _watched(backend, RunRequest(workflow="leaky", inputs={"k": SECRET}))
    turn = live["desk#1.triage"].turn
    assert turn is not None and turn.handoff is not None
    assert turn.handoff.message == "refund for ***"
