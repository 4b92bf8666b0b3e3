"""A team step as `agentgo run`'s progress, `jobs show` and `jobs trace` show it: each role
turn says its role, the agent that answered (and the fallbacks that failed first), its
round and a swarm's handoff; the team step says its protocol, rounds and outcome; turn keys
(`desk#2.billing`, `desk[1].task`) nest under the team's and address its nodes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentgo_cli.cli._output import kind_label, printable
from tests.backend.test_trace_teams import BROKEN, write_helpdesk
from tests.cli.test_trace_cli import invoke
from tests.engine.engine_tools import workflow

Write = Callable[[str, str], Path]

TEAMS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: chief}
spec:
  model: scripted:demo
  script:
    - {when: "^Plan", reply: ["t1", "t2"]}
    - reply: "merged"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: hand}
spec:
  model: scripted:demo
  script: [{reply: "did it"}]
  usage: {input_tokens: 2, output_tokens: 1}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: crew}
spec:
  protocol: planner-workers
  roles:
    - {name: planner, agent: chief}
    - {name: worker, agent: hand}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: low-bidder}
spec:
  model: scripted:demo
  script:
    - {when: "^Bid", reply: {bid: 1, reason: "low"}}
    - reply: "low did it"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: high-bidder}
spec:
  model: scripted:demo
  script:
    - {when: "^Bid", reply: {bid: 9, reason: "high"}}
    - reply: "high did it"
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: market}
spec:
  protocol: contract-net
  roles:
    - {name: low, agent: low-bidder}
    - {name: high, agent: high-bidder}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: glitch}
spec:
  model: scripted:demo
  script: [{reply: "${{ input.nope }}"}]
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: line}
spec:
  protocol: pipeline
  roles:
    - {name: first, agent: glitch}
    - {name: second, agent: hand}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write_helpdesk(write, "swarm, contract-net")
    write("m/teams.yaml", TEAMS)
    for team in ("crew", "market", "line"):
        workflow(write, f"steps: [{{id: desk, team: {team}, input: x}}]", name=team)
    return write


def _run(name: str) -> tuple[str, list[str]]:
    """Run a workflow with progress; its job id and its progress lines (the status line
    last)."""
    code, _, err = invoke("run", name)
    lines = err.splitlines()
    found = re.search(r"job (j-\w+) \w+ in", lines[-1])
    assert found, err
    assert code == (0 if "succeeded" in lines[-1] else 1), err
    return found.group(1), lines[:-1]


def _match(lines: list[str], patterns: list[str]) -> None:
    assert len(lines) == len(patterns), lines
    for line, pattern in zip(lines, patterns, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def _masked(line: str) -> str:
    """A line with its durations (progress's, show's, trace's) as ``T``."""
    return re.sub(r"\b\d+\.\d\ds\b|\b\d+\.\d{3}s\b|\b\d+ms\b", "T", line)


def test_a_swarm_shows_roles_agents_rounds_the_handoff_and_the_fallback(project: Write) -> None:
    job_id, progress = _run("help")
    triage = "desk#1.triage (role triage: triage, round 1, handoff to billing)"
    billing = "desk#2.billing (role billing: biller after broken failed, round 2)"
    team = "desk (team swarm, 2 rounds, answered by billing)"
    assert [_masked(line) for line in progress] == [
        f"✓ {triage} succeeded T",
        f"✓ {billing} succeeded T",
        f"✓ {team} succeeded T",
    ]

    # Watched from the store (a job another process ran): the same lines.
    code, _, err = invoke("jobs", "watch", job_id)
    assert code == 0
    assert [_masked(line) for line in err.splitlines()[:3]] == [
        f"✓ {triage} succeeded T",
        f"✓ {billing} succeeded T",
        f"✓ {team} succeeded T",
    ]

    code, out, _ = invoke("jobs", "show", job_id)
    assert code == 0
    assert [_masked(line) for line in out.splitlines()[4:7]] == [
        f"{team} succeeded T",
        f"  {triage} succeeded T",
        f"  {billing} succeeded T",
    ]

    code, out, _ = invoke("jobs", "show", job_id, "-o", "json")
    by_key = {s["key"]: s for s in json.loads(out)["steps"]}
    assert (by_key["desk"]["turn"], by_key["desk"]["team"]) == (
        None,
        {
            "protocol": "swarm",
            "rounds": 2,
            "tokens": 0,
            "cost_usd": 0.0,
            "bids": None,
            "awarded": None,
            "answered_by": "billing",
            "handoffs": 1,
            "todos": None,
            "tasks": None,
        },
    )
    assert by_key["desk#1.triage"]["turn"] == {
        "role": "triage",
        "agent": "triage",
        "round": 1,
        "handoff": {"to": "billing", "message": "a refund"},
        "failed_agents": [],
    }
    assert by_key["desk#2.billing"]["turn"] == {
        "role": "billing",
        "agent": "biller",
        "round": 2,
        "handoff": None,
        "failed_agents": [BROKEN],
    }
    assert by_key["desk#2.billing"]["team"] is None

    code, out, _ = invoke("jobs", "trace", job_id)
    assert code == 0
    assert [_masked(line) for line in out.splitlines()[1:]] == [
        f"└─ {team} succeeded T",
        f"   ├─ {triage} succeeded T",
        f"   └─ {billing} succeeded T",
        # Role turns are agent invocations: how to see their model turns.
        "(no model turns or tool calls recorded: set 'trace: full' in the profile to record them)",
    ]
    code, out, _ = invoke("jobs", "trace", job_id, "--step", "desk#2.billing")
    assert code == 0
    assert _masked(out.splitlines()[0]) == f"{billing} succeeded T"


def test_planner_workers_and_contract_net_turns_nest_under_their_team(project: Write) -> None:
    job_id, progress = _run("crew")
    team = "desk (team planner-workers, 4 rounds, 2 tasks)"
    assert [_masked(line) for line in progress] == [
        "✓ desk.plan (role planner: chief, round 1) succeeded T",
        "✓ desk[0].task (role worker: hand, round 2) succeeded T 3 tokens",
        "✓ desk[1].task (role worker: hand, round 3) succeeded T 3 tokens",
        "✓ desk.merge (role planner: chief, round 4) succeeded T",
        f"✓ {team} succeeded T",
    ]
    code, out, _ = invoke("jobs", "trace", job_id)
    assert [_masked(line) for line in out.splitlines()[1:]] == [
        f"└─ {team} succeeded T",
        "   ├─ desk.plan (role planner: chief, round 1) succeeded T",
        "   ├─ desk[0].task (role worker: hand, round 2) succeeded T 3 tokens",
        "   ├─ desk[1].task (role worker: hand, round 3) succeeded T 3 tokens",
        "   └─ desk.merge (role planner: chief, round 4) succeeded T",
        "(no model turns or tool calls recorded: set 'trace: full' in the profile to record them)",
    ]
    code, out, _ = invoke("jobs", "trace", job_id, "--step", "desk[1].task")
    assert code == 0
    assert _masked(out.splitlines()[0]) == (
        "desk[1].task (role worker: hand, round 3) succeeded T 3 tokens"
    )

    job_id, progress = _run("market")
    masked = [_masked(line) for line in progress]
    assert sorted(masked[:2]) == [  # the bids run at once
        "✓ desk.bid_high (role high: high-bidder, round 2) succeeded T",
        "✓ desk.bid_low (role low: low-bidder, round 1) succeeded T",
    ]
    assert masked[2:] == [
        "✓ desk.award_high (role high: high-bidder, round 3) succeeded T",
        "✓ desk (team contract-net, 3 rounds, awarded high) succeeded T",
    ]
    code, out, _ = invoke("jobs", "show", job_id, "-o", "json")
    shown = json.loads(out)["steps"][0]["team"]
    assert (shown["bids"], shown["awarded"]) == ({"low": 1, "high": 9}, "high")


def test_a_failed_turn_says_its_role_and_round(project: Write) -> None:
    _, progress = _run("line")
    failed = ": scripted model 'demo': script entry 1: expression"
    assert [_masked(line).split(failed)[0] for line in progress] == [
        "✗ desk.first (role first, round 1) failed T",
        "✗ desk (team pipeline, 1 round) failed T: step 'desk.first' failed",
    ]


_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_ODD = _SCALAR | _JSON | st.just([{"agent": "a\nb"}]) | st.just({"to": "x\x1b[2J"})
_NOTES = st.fixed_dictionaries(
    {"role": _ODD, "agent": _ODD, "protocol": _ODD},
    optional=dict.fromkeys(
        ["round", "handoff", "failed_agents", "rounds", "tasks", "awarded", "answered_by"], _ODD
    ),
)
"""Notes as a role turn's or a team's record may hold them, with values of any JSON type."""


@pytest.mark.parametrize("kind", ["role", "team", "agent"])
@given(notes=_NOTES)
def test_whatever_a_record_notes_a_kind_is_one_printable_line(
    kind: str, notes: dict[str, Any]
) -> None:
    """A record's extra is read back as it was stored: no value of it fails a command."""
    label = kind_label(kind, notes)
    assert label.startswith(kind)
    assert label == printable(label)  # no newline, no terminal code
