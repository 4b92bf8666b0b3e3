"""The installed `agentgo call` of a team's intent, one process per call: the team's answer,
its cost in the call record, a denied caller that no role ever saw (a file the first role's
tool appends to stays absent), and a quota kept between processes in the store."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.a2a.test_lifecycle import CONFIG, TURN_TOKENS, TURN_USD
from tests.e2e.test_worker import AGENTGO, _env

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

TEAM = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: mark}
spec:
  input: {type: object, required: [label], properties: {label: {type: string}}}
  runtime: {type: python, entrypoint: "tests.e2e.crash_tools:mark"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: drafter}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - tool: {name: mark, args: {label: "${{ input }}"}}
    - reply: "draft"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: checker}
spec:
  model: scripted:demo
  script:
    - reply: {summary: "checked ${{ input }}"}
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: desk}
spec:
  protocol: pipeline
  roles:
    - {name: writer, agent: drafter}
    - {name: fact-checker, agent: checker}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: desk-card}
spec:
  target: team:desk
  intents:
    - name: desk.story
      version: 1.0.0
      input: {type: object, required: [topic], properties: {topic: {type: string}}}
      output: {type: object, required: [summary], properties: {summary: {type: string}}}
      prompt: "Write about ${{ input.topic }}"
      acl:
        allow: [{principal: "user:*"}]
        deny: [{principal: "user:mallory"}]
      rate_limit: {requests: 1, per: 1h, burst: 1}
"""


def call(cwd: Path, marks: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENTGO), "call", "desk.story", *args],
        cwd=cwd,
        env=_env() | {"AGENTGO_TEST_MARKS": str(marks)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_agentgo_call_runs_a_team_as_its_caller_allows(write: Write, workdir: Path) -> None:
    write("agentgo.yaml", CONFIG)
    write("m/team.yaml", TEAM)
    marks = workdir / "marks.txt"

    denied = call(workdir, marks, "-i", "topic=cats", "--as", "user:mallory")
    assert (denied.returncode, denied.stdout) == (4, "")
    assert denied.stderr.startswith("error: desk.story@1.0.0: user:mallory may not call it: ")
    assert not marks.exists()  # no role ran

    done = call(workdir, marks, "-i", "topic=cats", "--as", "user:alice", "-o", "json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["output"] == {"summary": "checked draft"}
    assert (record["target"], record["chain"]) == ("team:desk", ["user:alice", "team:desk"])
    assert record["tokens"] == 3 * TURN_TOKENS
    assert record["cost_usd"] == pytest.approx(3 * TURN_USD)
    assert [line.split("\t")[1] for line in marks.read_text().splitlines()] == ["Write about cats"]

    again = call(workdir, marks, "-i", "topic=dogs", "--as", "user:alice")
    assert (again.returncode, again.stdout) == (6, "")
    assert "rate limit of 1 calls per 1h for user:alice reached" in again.stderr
    assert len(marks.read_text().splitlines()) == 1
