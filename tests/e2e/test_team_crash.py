"""Kill `agentgo run` with SIGKILL in the middle of a team step of each protocol, resume, and
check that the team ends as an undisturbed run does and that no role turn finished before
the kill was played again.

Every role agent calls the `mark` python tool once per turn (a line per execution in
$AGENTGO_TEST_MARKS, under the turn's key), so the marks count how often each turn ran;
the turns' step records must also be the same records (same start and end) after the
resume. The helpers are the crash tests' (``test_crash_recovery``).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_crash_recovery import (
    AGENTGO,
    MARK_TOOL,
    _env,
    _finished_keys,
    _jobs,
    _marks,
    _run,
)

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

CONFIG = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./wf]}
features: [contract-net, swarm]
"""

# Each role turn is two model turns of 150 ms (the mark, then the answer): a kill lands
# while a turn is in flight, well before the team ends.
MANIFESTS = (
    MARK_TOOL
    + """---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: stage}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - tool: {name: mark, args: {label: "${{ input }}"}}
    - reply: "${{ input }} +"
  latency: 150ms
  usage: {input_tokens: 3, output_tokens: 2}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: line}
spec:
  protocol: pipeline
  roles:
    - {name: first, agent: stage}
    - {name: second, agent: stage}
    - {name: third-one, agent: stage}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: chief}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - when: "^Plan the work"
      tool: {name: mark, args: {label: "plan"}}
    - when: "^Merge"
      tool: {name: mark, args: {label: "${{ input }}"}}
    - when: '"plan"'
      reply: ["a", "b", "c", "d", "e"]
    - reply: "merged ${{ input }}"
  latency: 150ms
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: hand}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - tool: {name: mark, args: {label: "${{ input }}"}}
    - reply: "did ${{ input }}"
  latency: 150ms
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: crew}
spec:
  protocol: planner-workers
  roles:
    - {name: planner, agent: chief}
    - {name: worker, agent: hand, replicas: 2}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: low-bidder}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - when: "^Bid for"
      tool: {name: mark, args: {label: "bid"}}
    - when: "won the contract"
      tool: {name: mark, args: {label: "award"}}
    - when: '"bid"'
      reply: {bid: 1, reason: "low"}
    - reply: "low did it"
  latency: 150ms
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: high-bidder}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - when: "^Bid for"
      tool: {name: mark, args: {label: "bid"}}
    - when: "won the contract"
      tool: {name: mark, args: {label: "award"}}
    - when: '"bid"'
      reply: {bid: 9, reason: "high"}
    - reply: "high did it"
  latency: 150ms
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
metadata: {name: triager}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - tool: {name: mark, args: {label: "triage"}}
    - tool: {name: handoff, args: {to: billing, message: "refund please"}}
  latency: 150ms
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: biller}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - tool: {name: mark, args: {label: "billing"}}
    - reply: "refunded"
  latency: 150ms
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: hive}
spec:
  protocol: swarm
  roles:
    - {name: triage, agent: triager}
    - {name: billing, agent: biller}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: pipeline}
spec:
  steps:
    - {id: desk, team: line, input: "go"}
  outputs: {out: "${{ steps.desk.output }}"}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: planner-workers}
spec:
  steps:
    - {id: desk, team: crew, input: "job"}
  outputs: {out: "${{ steps.desk.output }}"}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: contract-net}
spec:
  steps:
    - {id: desk, team: market, input: "job"}
  outputs: {out: "${{ steps.desk.output }}"}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: swarm}
spec:
  steps:
    - {id: desk, team: hive, input: "my bill"}
  outputs: {out: "${{ steps.desk.output }}"}
"""
)

Ready = Callable[[set[str]], bool]
"""Whether the role turns finished so far (their keys) are enough to kill the run."""

CASES = [
    pytest.param("pipeline", lambda done: "desk.first" in done, id="pipeline"),
    pytest.param(
        "planner-workers",
        lambda done: "desk.plan" in done and any("[" in k for k in done),
        id="planner-workers",
    ),
    pytest.param(  # every todo done: the resumed workers find none, the merge runs again
        "planner-workers",
        lambda done: sum("[" in k for k in done) == 5,
        id="planner-workers-in-merge",
    ),
    pytest.param(
        "contract-net", lambda done: any(k.startswith("desk.bid_") for k in done), id="contract-net"
    ),
    pytest.param("swarm", lambda done: "desk#1.triage" in done, id="swarm"),
]

TURNS = {
    "pipeline": {"desk.first", "desk.second", "desk.third_one"},
    "planner-workers": {"desk.plan", "desk.merge", *(f"desk[{n}].task" for n in range(5))},
    "contract-net": {"desk.bid_low", "desk.bid_high", "desk.award_high"},
    "swarm": {"desk#1.triage", "desk#2.billing"},
}
"""The role turns of a run of each workflow (those that call `mark`)."""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("teams")
    (tmp / "wf").mkdir()
    (tmp / "wf" / "teams.yaml").write_text(MANIFESTS, encoding="utf-8")
    (tmp / "agentgo.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp


def _turns(tmp: Path, job_id: str) -> dict[str, dict[str, Any]]:
    """The job's role turns as `jobs show` reads them, by key."""
    result = _run(tmp, "jobs", "show", job_id, "--output", "json")
    assert result.returncode == 0, result.stderr
    return {s["key"]: s for s in json.loads(result.stdout)["steps"] if s["kind"] == "role"}


def _when(step: dict[str, Any]) -> tuple[str, float, float | None]:
    """What shows a step record was written again: its status, start and end."""
    return step["status"], step["started_at"], step["finished_at"]


def _ran(tmp: Path, job_id: str) -> dict[str, int]:
    """How often each role turn of the job called `mark`, by its key."""
    return {
        key.removeprefix(f"{job_id}:"): n
        for key, n in _marks(tmp).items()
        if key.startswith(f"{job_id}:")
    }


def _kill_mid_team(tmp: Path, workflow: str, ready: Ready) -> tuple[str, set[str]]:
    """Start a run, SIGKILL it once enough role turns finished; the job and the keys of the
    steps finished at the kill."""
    jobs_before = set(_jobs(tmp))
    proc = subprocess.Popen(
        [str(AGENTGO), "run", workflow, "--quiet"],
        cwd=tmp,
        env=_env(tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            new = [j for j in _jobs(tmp) if j not in jobs_before]
            if new:
                prefix = f"{new[0]}:"
                done = {k[len(prefix) :] for k in _finished_keys(tmp) if k.startswith(prefix)}
                if ready(done):
                    break
            time.sleep(0.01)
        else:
            pytest.fail(f"{workflow}: no role turn finished within 30 s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    (job_id,) = new
    prefix = f"{job_id}:"
    return job_id, {k[len(prefix) :] for k in _finished_keys(tmp) if k.startswith(prefix)}


def _todos(tmp: Path, job_id: str) -> list[tuple[int, str, Any]]:
    """The todo list of the job's `desk` team: (seq, status, result) of each todo."""
    db = tmp / "state" / "agentgo.db"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT list_id, seq, status, result FROM team_todos WHERE list_id LIKE ? ORDER BY seq",
            (f"{job_id}:desk@%",),
        ).fetchall()
    assert len({r[0] for r in rows}) == 1, rows  # one list: the plan's, made once
    return [(seq, status, json.loads(result)) for _, seq, status, result in rows]


@pytest.mark.parametrize(("workflow", "ready"), CASES)
def test_kill_mid_team_and_resume(project: Path, workflow: str, ready: Ready) -> None:
    tmp = project
    result = _run(tmp, "run", workflow, "--output", "json", "--quiet")
    assert result.returncode == 0, result.stderr
    reference = json.loads(result.stdout)
    assert reference["status"] == "succeeded"
    assert _ran(tmp, reference["job_id"]) == dict.fromkeys(TURNS[workflow], 1)

    job_id, finished = _kill_mid_team(tmp, workflow, ready)
    assert "desk" not in finished, "the team ended before the kill: nothing to resume"
    before = _turns(tmp, job_id)
    finished_turns = {k for k in finished if k in TURNS[workflow]}
    assert finished_turns  # the kill came after some turns, before the team's end

    result = _run(tmp, "resume", job_id, "--output", "json", "--quiet")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["status"], data["outputs"]) == ("succeeded", reference["outputs"])

    after = _turns(tmp, job_id)
    assert set(after) == TURNS[workflow]
    assert all(step["status"] == "succeeded" for step in after.values())
    for key in finished_turns:  # the same record: it was not played again
        assert _when(after[key]) == _when(before[key]), key
    ran = _ran(tmp, job_id)
    assert set(ran) == TURNS[workflow]
    for key, count in ran.items():
        # A turn in flight at the kill is played again (its mark may have been made).
        assert count == 1 or (count == 2 and key not in finished_turns), (key, count)

    if workflow == "planner-workers":
        todos = _todos(tmp, job_id)
        assert [(seq, status) for seq, status, _ in todos] == [(n, "done") for n in range(5)]
        for seq, _, done in todos:  # completed by the turn that is recorded
            assert done == {"output": after[f"desk[{seq}].task"]["output"], "role": "worker"}
