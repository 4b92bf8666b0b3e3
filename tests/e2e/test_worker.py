"""The installed `agentgo` in real processes: detached jobs and a worker, abandoned jobs picked
up by a worker, and a running job cancelled from another process."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.engine.engine_tools import COMMON, CONFIG, seed_job, workflow

Write = Callable[[str, str], Path]

AGENTGO = Path(sys.executable).with_name("agentgo")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

DIGEST = """
inputs:
  topic: {type: string, default: chips}
steps:
  - id: draft
    agent: writer
    prompt: "topic ${{ inputs.topic }}"
  - id: count
    tool: echo
    with: {text: "${{ steps.draft.output }}"}
outputs:
  draft: ${{ steps.draft.output }}
  words: ${{ steps.count.output.words }}
"""

SLOW = """
steps:
  - id: first
    tool: echo
    with: {text: "quick"}
  - id: slow
    agent: slowpoke
    prompt: "take your time"
  - id: never
    tool: echo
    with: {text: "never"}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, DIGEST)
    workflow(write, SLOW, name="slow")
    return write


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env["PYTHONPATH"] = str(REPO)
    return env


def agentgo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENTGO), *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def detach(cwd: Path, name: str) -> str:
    """Enqueue a run of workflow ``name``; its job id."""
    result = agentgo(cwd, "run", name, "--detach", "-o", "json")
    assert result.returncode == 0, result.stderr
    job_id: str = json.loads(result.stdout)["job_id"]
    return job_id


def show(cwd: Path, job_id: str) -> dict[str, Any]:
    result = agentgo(cwd, "jobs", "show", job_id, "--output", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_detached_job_is_run_by_a_worker(project: Write, workdir: Path) -> None:
    result = agentgo(workdir, "run", "wf", "--detach", "--output", "json")
    assert (result.returncode, result.stderr) == (0, "")
    job_id = json.loads(result.stdout)["job_id"]
    queued = show(workdir, job_id)
    assert (queued["status"], queued["steps"], queued["outputs"]) == ("queued", [], None)

    result = agentgo(workdir, "worker", "--once", "--poll", "0.05")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.splitlines()[-1] == "worker ran 1 job"  # after a line per job
    done = show(workdir, job_id)
    assert (done["status"], done["error"], done["tokens"]) == ("succeeded", None, 15)
    assert done["outputs"] == {"draft": "draft about topic chips", "words": 4}
    assert [(s["key"], s["status"]) for s in done["steps"]] == [
        ("draft", "succeeded"),
        ("count", "succeeded"),
    ]


def test_worker_runs_several_queued_jobs(project: Write, workdir: Path) -> None:
    for topic in ("a", "b", "c"):
        assert agentgo(workdir, "run", "wf", "-i", f"topic={topic}", "--detach").returncode == 0
    result = agentgo(workdir, "worker", "--once", "--concurrency", "2", "--poll", "0.05")
    assert (result.returncode, result.stderr.splitlines()[-1]) == (0, "worker ran 3 jobs")
    listed = json.loads(agentgo(workdir, "jobs", "list", "--output", "json").stdout)
    assert sorted((j["inputs"]["topic"], j["status"]) for j in listed) == [
        ("a", "succeeded"),
        ("b", "succeeded"),
        ("c", "succeeded"),
    ]


def test_worker_finishes_a_job_whose_lease_expired(project: Write, workdir: Path) -> None:
    host = socket.gethostname()
    # A process that died after 'draft' finished, and one that is alive and holds its lease.
    abandoned = seed_job(
        "wf",
        {"topic": "chips"},
        status="running",
        lease_owner=f"{host}:999999:x",
        lease_seconds=-5,
        finished={"draft": "written before the crash"},
    )
    alive = seed_job(
        "wf", {"topic": "chips"}, status="running", lease_owner=f"{host}:{os.getpid()}:x"
    )
    result = agentgo(workdir, "worker", "--once", "--poll", "0.05")
    assert (result.returncode, result.stderr.splitlines()[-1]) == (0, "worker ran 1 job")
    done = show(workdir, abandoned)
    assert (done["status"], done["error"]) == ("succeeded", None)
    # The recorded step was not run again: its output is the one the dead process stored.
    assert done["outputs"] == {"draft": "written before the crash", "words": 4}
    assert [(s["key"], s["status"]) for s in done["steps"]] == [
        ("draft", "succeeded"),
        ("count", "succeeded"),
    ]
    untouched = show(workdir, alive)
    assert (untouched["status"], untouched["steps"]) == ("running", [])


def test_worker_fails_a_job_that_cannot_start_and_goes_on(project: Write, workdir: Path) -> None:
    gone = seed_job("renamed", {}, status="queued")
    fine = seed_job("wf", {"topic": "chips"}, status="queued")
    result = agentgo(workdir, "worker", "--once", "--poll", "0.05")
    assert (result.returncode, result.stderr.splitlines()[-1]) == (0, "worker ran 2 jobs")
    broken = show(workdir, gone)
    assert (broken["status"], broken["error"]) == (
        "failed",
        "workflow 'renamed' is not in the manifest set",
    )
    assert show(workdir, fine)["status"] == "succeeded"


def test_cancel_stops_a_running_job_in_another_process(project: Write, workdir: Path) -> None:
    proc = subprocess.Popen(
        [str(AGENTGO), "run", "slow", "--quiet"],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job_id = _wait_for_step(workdir, "slow")
        result = agentgo(workdir, "jobs", "cancel", job_id)
        assert (result.returncode, result.stdout) == (0, f"job {job_id}: cancel requested\n")
        asked = time.monotonic()
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - asked
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert took < 3, f"the run stopped {took:.1f}s after the cancel"
    assert out == ""
    assert re.fullmatch(
        rf"job {job_id} cancelled in \d+\.\d\ds, 0 tokens: cancelled on request\n", err
    ), err
    job = show(workdir, job_id)
    assert (job["status"], job["error"], job["outputs"]) == (
        "cancelled",
        "cancelled on request",
        None,
    )
    steps = {s["key"]: (s["status"], s["output"], s["error"]) for s in job["steps"]}
    assert steps == {
        "first": ("succeeded", {"text": "quick", "words": 1}, None),
        "slow": ("failed", None, "interrupted: cancelled on request"),
    }


def _wait_for_step(cwd: Path, key: str) -> str:
    """Wait until the only job is running with step `key` in flight; return the job id."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = json.loads(agentgo(cwd, "jobs", "list", "--output", "json").stdout or "[]")
        if listed and listed[0]["status"] == "running":
            job_id: str = listed[0]["job_id"]
            running = [s["key"] for s in show(cwd, job_id)["steps"] if s["status"] == "running"]
            if running == [key]:
                return job_id
        time.sleep(0.05)
    pytest.fail(f"no job got to step '{key}' within 10s")
