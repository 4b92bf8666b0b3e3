"""A job whose owners keep dying is failed as poisoned, not taken forever.

Each owner is a real `agentgo` process that takes the job, starts its step (a python tool
that never returns) and is killed with SIGKILL. With ``poison_after: 2`` in the profile,
the take that would make the second owner lost fails the job instead, durably, with the
reason in its error and its log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

AGENTGO = Path(sys.executable).with_name("agentgo")
REPO = Path(__file__).resolve().parents[2]

MANIFESTS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: hang}
spec:
  input: {type: object, required: [label], properties: {label: {type: string}}}
  runtime: {type: python, entrypoint: "tests.e2e.race_tools:hang"}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: stuck}
spec:
  steps:
    - {id: wedge, tool: hang, with: {label: wedge}}
"""

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env.update(AGENTGO_TEST_MARKS=str(tmp / "marks.txt"), PYTHONPATH=str(REPO))
    return env


def _marks(tmp: Path) -> list[list[str]]:
    path = tmp / "marks.txt"
    return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []


def _kill_once_running(tmp: Path, *args: str) -> str:
    """Start `agentgo ARGS`, wait for its step to run, kill it; the job's id."""
    before = len(_marks(tmp))
    err = tmp / "stderr.txt"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [str(AGENTGO), *args, "--quiet"],
            cwd=tmp,
            env=_env(tmp),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while len(_marks(tmp)) == before:
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    return _marks(tmp)[-1][0]


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


@pytest.mark.timeout(180)
def test_a_job_whose_owners_keep_dying_is_failed_as_poisoned(tmp_path: Path) -> None:
    (tmp_path / "wf").mkdir()
    (tmp_path / "wf" / "stuck.yaml").write_text(MANIFESTS, encoding="utf-8")
    (tmp_path / "agentgo.yaml").write_text(
        "profile: p\nprofiles:\n  p: {store: 'sqlite:///state/agentgo.db', poison_after: 2}\n",
        encoding="utf-8",
    )
    job_id = _kill_once_running(tmp_path, "run", "wf/stuck.yaml")  # the first owner dies
    assert _kill_once_running(tmp_path, "resume", job_id) == job_id  # and the second

    result = _run(tmp_path, "resume", job_id, "--output", "json")
    error = (
        f"job {job_id} was abandoned by 2 owners (each died while running it); failed as poisoned"
    )
    data = json.loads(result.stdout)
    assert (data["status"], data["error"]) == ("failed", error), result.stderr
    assert len(_marks(tmp_path)) == 2  # the step did not run a third time

    logs = _run(tmp_path, "jobs", "logs", job_id)
    assert f"failed: {error}" in logs.stdout, logs.stdout + logs.stderr
    worker = _run(tmp_path, "worker", "--once")
    assert worker.returncode == 0, worker.stderr
    assert "ran 0 jobs" in worker.stdout + worker.stderr
    shown = json.loads(_run(tmp_path, "jobs", "show", job_id, "--output", "json").stdout)
    assert shown["status"] == "failed"
    assert [s["status"] for s in shown["steps"]] == ["failed"]
