"""Kill `agentgo run` with SIGKILL at many moments, resume, and check nothing is lost or redone.

Each moment: start the real command, kill it, then `agentgo resume` the job. Afterwards the
outputs must equal those of an uninterrupted run, every step that had finished before the
kill must have run exactly once (side effects are counted in a file by a python tool), and
the store must hold exactly one job.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

AGENTGO = Path(sys.executable).with_name("agentgo")
REPO = Path(__file__).resolve().parents[2]

MARK_TOOL = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: mark}
spec:
  input: {type: object, required: [label], properties: {label: {type: string}}}
  runtime: {type: python, entrypoint: "tests.e2e.crash_tools:mark"}
"""
"""The `mark` python tool: a line per execution in $AGENTGO_TEST_MARKS (tests/e2e/crash_tools)."""

MANIFESTS = (
    MARK_TOOL
    + """---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: researcher}
spec:
  model: scripted:demo
  tools: [mark]
  script:
    - tool: {name: mark, args: {label: "${{ input }}"}}
    - reply: "notes"
  latency: 25ms
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: editor}
spec:
  model: scripted:demo
  output_schema: {type: object, required: [approved], properties: {approved: {type: boolean}}}
  script:
    - reply: {approved: true}
  latency: 25ms
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: crashy}
spec:
  inputs:
    topics: {type: array, items: {type: string}, default: [alpha, beta, gamma, delta]}
  steps:
    - id: first
      tool: mark
      with: {label: "first"}
    - id: research
      foreach: ${{ inputs.topics }}
      as: topic
      max_concurrency: 2
      steps:
        - id: summarize
          agent: researcher
          prompt: "topic ${{ topic }}"
        - id: note
          tool: mark
          with: {label: "note ${{ topic }} ${{ index }}"}
    - id: polish
      loop:
        max_iterations: 3
        until: ${{ loop.iteration >= 3 }}
        steps:
          - id: review
            agent: editor
            prompt: "review ${{ loop.iteration }}"
          - id: stamp
            tool: mark
            with: {label: "stamp ${{ loop.iteration }}"}
    - id: checks
      parallel:
        - id: left
          tool: mark
          with: {label: "left"}
        - id: right
          agent: researcher
          prompt: "right side"
    - id: maybe
      if: ${{ steps.left.status == 'succeeded' }}
      tool: mark
      with: {label: "maybe ${{ steps.research.output | length }}"}
  outputs:
    research: ${{ steps.research.output }}
    approved: ${{ steps.review.output.approved }}
    checks: ${{ steps.checks.output }}
    last: ${{ steps.maybe.output.label }}
"""
)

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env["AGENTGO_TEST_MARKS"] = str(tmp / "marks.txt")
    env["PYTHONPATH"] = str(REPO)
    return env


def _project(tmp: Path) -> Path:
    (tmp / "wf").mkdir(parents=True)
    (tmp / "wf" / "crashy.yaml").write_text(MANIFESTS, encoding="utf-8")
    (tmp / "agentgo.yaml").write_text(
        "profile: p\nprofiles:\n  p: {store: 'sqlite:///state/agentgo.db'}\n", encoding="utf-8"
    )
    return tmp


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENTGO), *args],
        cwd=tmp,
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _marks(tmp: Path) -> Counter[str]:
    path = tmp / "marks.txt"
    if not path.exists():
        return Counter()
    # A tool called by an agent gets '<step key>:tool-<n>': count it under its step.
    keys = (line.split("\t")[0] for line in path.read_text().splitlines() if line)
    return Counter(key.split(":tool-")[0] for key in keys)


def _db(tmp: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp / "state" / "agentgo.db")


def _finished_keys(tmp: Path) -> set[str]:
    if not (tmp / "state" / "agentgo.db").exists():
        return set()
    with _db(tmp) as db:
        try:
            rows = db.execute(
                "select job_id, key from steps where status in ('succeeded','failed','skipped')"
            ).fetchall()
        except sqlite3.OperationalError:
            return set()
    return {f"{job}:{key}" for job, key in rows}


def _jobs(tmp: Path) -> list[str]:
    if not (tmp / "state" / "agentgo.db").exists():
        return []
    with _db(tmp) as db:
        try:
            return [r[0] for r in db.execute("select id from jobs").fetchall()]
        except sqlite3.OperationalError:
            return []


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], float, int]:
    """Outputs, wall time and side-effect count of an uninterrupted run."""
    tmp = _project(tmp_path_factory.mktemp("reference"))
    started = time.monotonic()
    result = _run(tmp, "run", "wf/crashy.yaml", "--output", "json", "--quiet")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "succeeded"
    marks = _marks(tmp)
    assert all(n == 1 for n in marks.values()), marks
    return data["outputs"], took, sum(marks.values())


MOMENTS = 22


@pytest.mark.parametrize("moment", range(MOMENTS))
def test_kill_and_resume(
    moment: int, reference: tuple[dict[str, object], float, int], tmp_path: Path
) -> None:
    outputs, took, effects = reference
    tmp = _project(tmp_path)
    # Spread the kills over the whole run: process start-up, job creation, every step kind.
    delay = took * (moment + 0.5) / MOMENTS
    proc = subprocess.Popen(
        [str(AGENTGO), "run", "wf/crashy.yaml", "--quiet"],
        cwd=tmp,
        env=_env(tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished_before = _finished_keys(tmp)
    marks_before = _marks(tmp)
    jobs = _jobs(tmp)
    if not jobs:
        # Killed before the job was created: nothing may have happened.
        assert not marks_before
        return
    assert len(jobs) == 1
    result = _run(tmp, "resume", jobs[0], "--output", "json", "--quiet")
    if result.returncode != 0 and "running under" in result.stderr:
        pytest.fail(f"resume refused a dead owner's job: {result.stderr}")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "succeeded", data
    assert data["outputs"] == outputs
    assert _jobs(tmp) == jobs  # no job lost, none duplicated
    marks = _marks(tmp)
    for key in finished_before:
        assert marks.get(key, 0) <= 1, f"{key} finished before the kill and ran again"
    for key, count in marks.items():
        assert count <= 2, f"{key} ran {count} times"
        if count == 2:
            assert key not in finished_before
            assert marks_before.get(key, 0) == 1  # the in-flight attempt, retried once
    assert set(marks) == set(marks_before) | set(marks)
    assert len(marks) == effects  # every side effect happened, under its own key
