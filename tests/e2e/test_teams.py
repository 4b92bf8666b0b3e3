"""Teams through the installed `agentgo`: the protocol project (tests/teams/protocol_project.py)
validates, and a swarm and a contract-net team run to their exact outputs, each role turn a
step record that `jobs show` lists. The protocols' cases are in tests/teams/ (in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, agentgo
from tests.teams.protocol_project import TEAMS, Write, write_project

TURN = {"round": 1, "handoff": None, "failed_agents": []}

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")


def test_the_installed_command_runs_teams(write: Write, workdir: Path) -> None:
    write_project(write)
    checked = agentgo(workdir, "validate")
    assert checked.returncode == 0, checked.stdout
    assert f", {len(TEAMS)} Team, " in checked.stdout

    ran = agentgo(workdir, "run", "helpdesk", "-i", "task=order 7", "-o", "json")
    assert ran.returncode == 0, ran.stderr
    job = json.loads(ran.stdout)
    assert job["outputs"] == {
        "out": "billing: triage handed the task to you: refund for order 7\n\norder 7"
    }
    shown = agentgo(workdir, "jobs", "show", job["job_id"], "-o", "json")
    steps = [(s["key"], s["kind"], s["turn"]) for s in json.loads(shown.stdout)["steps"]]
    handoff = {"to": "billing", "message": "refund for order 7"}
    assert steps == [
        ("desk", "team", None),
        ("desk#1.triage", "role", dict(TURN, role="triage", agent="triage", handoff=handoff)),
        ("desk#2.billing", "role", dict(TURN, role="billing", agent="biller", round=2)),
    ]

    ran = agentgo(workdir, "run", "market", "-i", "task=the report", "-q")
    assert (ran.returncode, ran.stdout) == (0, "out: three did the report\n"), ran.stderr
