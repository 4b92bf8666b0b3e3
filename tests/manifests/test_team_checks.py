"""Cross-checks of a Team's roles against its protocol: what a role asks for that the
protocol would never do (replicas it does not run, fallbacks it never tries), and teams
that cannot work (planner-workers with no worker, a swarm of one)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers import error_lines, validate_files

AGENTS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: writer}
spec: {model: scripted:demo}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: editor}
spec: {model: scripted:demo}
"""


def team(roles: str, protocol: str = "pipeline") -> str:
    """A team whose roles (dedented) start on line 7."""
    body = textwrap.indent(textwrap.dedent(roles).strip("\n"), "    ")
    return (
        "apiVersion: agentgo/v1\nkind: Team\nmetadata: {name: desk}\nspec:\n"
        f"  protocol: {protocol}\n  roles:\n{body}\n"
    )


def check(root: Path, text: str) -> list[str]:
    config = "features: [contract-net, swarm]\n"
    return error_lines(
        validate_files({"agentgo.yaml": config, "agents.yaml": AGENTS, "team.yaml": text}, root)
    )


def test_planner_workers_needs_a_worker_role(workdir: Path) -> None:
    roles = """
        - {name: planner, agent: editor}
        - {name: synthesizer, agent: editor}
    """
    assert check(workdir, team(roles, "planner-workers")) == [
        "team.yaml:7:5: spec.roles: protocol 'planner-workers' needs a worker role (a role "
        "besides the planner and the synthesizer) to do the planner's tasks",
    ]


@pytest.mark.parametrize("protocol", ["pipeline", "contract-net", "swarm"])
def test_replicas_only_where_the_protocol_runs_them(workdir: Path, protocol: str) -> None:
    roles = """
        - {name: first, agent: writer}
        - {name: second, agent: editor, replicas: 3}
    """
    assert check(workdir, team(roles, protocol)) == [
        f"team.yaml:8:47: spec.roles[1].replicas: protocol '{protocol}' plays each role once; "
        "only the worker roles of planner-workers run replicas",
    ]


def test_the_planner_and_the_synthesizer_play_once(workdir: Path) -> None:
    roles = """
        - {name: planner, agent: editor, replicas: 2}
        - {name: writer, agent: writer, replicas: 4}
        - name: synthesizer
          agent: editor
          replicas: 2
    """
    assert check(workdir, team(roles, "planner-workers")) == [
        "team.yaml:7:48: spec.roles[0].replicas: the planner plays once; only the worker roles "
        "of planner-workers run replicas",
        "team.yaml:11:17: spec.roles[2].replicas: the synthesizer plays once; only the worker "
        "roles of planner-workers run replicas",
    ]


def test_a_swarm_needs_someone_to_hand_off_to(workdir: Path) -> None:
    assert check(workdir, team("- {name: triage, agent: writer}", "swarm")) == [
        "team.yaml:7:5: spec.roles: a swarm needs two roles or more: its one role would have "
        "no one to hand off to",
    ]


def test_fallback_agents_need_on_failure_replace(workdir: Path) -> None:
    roles = """
        - {name: first, agent: writer, fallback_agents: [editor]}
        - {name: second, agent: editor, fallback_agents: [writer], on_failure: skip}
        - {name: third, agent: editor, fallback_agents: [writer], on_failure: replace}
    """
    assert check(workdir, team(roles)) == [
        "team.yaml:7:53: spec.roles[0].fallback_agents: fallback agents are tried only with "
        "'on_failure: replace' (this role's on_failure is 'abort')",
        "team.yaml:8:54: spec.roles[1].fallback_agents: fallback agents are tried only with "
        "'on_failure: replace' (this role's on_failure is 'skip')",
    ]


@pytest.mark.parametrize(
    ("protocol", "rounds", "least"),
    [
        ("pipeline", 2, "3 role turns (one per role)"),
        ("contract-net", 3, "4 role turns (a bid per role and an award)"),
        ("planner-workers", 1, "2 role turns (the plan and the merge)"),
    ],
)
def test_max_rounds_that_no_run_can_finish_in(
    workdir: Path, protocol: str, rounds: int, least: str
) -> None:
    roles = """
        - {name: planner, agent: editor}
        - {name: writer, agent: writer}
        - {name: checker, agent: writer}
    """
    text = team(roles, protocol) + f"  limits: {{max_rounds: {rounds}}}\n"
    assert check(workdir, text) == [
        f"team.yaml:10:24: spec.limits.max_rounds: protocol '{protocol}' plays at least {least}: "
        f"max_rounds {rounds} stops every run before it ends",
    ]
    enough = {"pipeline": 3, "contract-net": 4, "planner-workers": 2}[protocol]
    assert check(workdir, text.replace(f"max_rounds: {rounds}", f"max_rounds: {enough}")) == []


def test_a_team_every_protocol_can_run_is_valid(workdir: Path) -> None:
    roles = """
        - {name: planner, agent: editor}
        - {name: writer, agent: writer, replicas: 3, fallback_agents: [editor], on_failure: replace}
        - {name: checker, agent: writer, on_failure: skip}
    """
    assert check(workdir, team(roles, "planner-workers")) == []
    assert check(workdir, team(roles.replace(", replicas: 3", ""), "swarm")) == []
