"""Ctrl-C on `agentgo run` in a real process: the job is given up at once, the user is told
how to finish it, and a resume (no --force) or a worker finishes it straight away without
running its finished steps again."""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, _env, agentgo, show
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.remote import served_variant

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

SLEEPY = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: sleepy}
spec:
  model: scripted:demo
  latency: 3s
  script:
    - reply: "rested"
"""

STEPS = """
steps:
  - id: first
    tool: echo
    with: {text: "quick"}
  - id: slow
    agent: sleepy
    prompt: "take your time"
  - id: last
    tool: echo
    with: {text: "${{ steps.slow.output }}"}
outputs:
  said: ${{ steps.last.output.text }}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    write("m/sleepy.yaml", SLEEPY)
    workflow(write, STEPS, name="nap")
    return write


@pytest.fixture(params=["local", "remote"], autouse=True)
def backend_kind(
    request: pytest.FixtureRequest,
    project: Write,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """Each test twice: the project run here, and sent to an ``agentgo serve`` of it (a
    child process) through a remote profile, with the same assertions. A worker runs
    beside the store (``-p p``), as it would on the server's machine."""
    yield from served_variant(request.param, request.node, workdir, monkeypatch.setenv)


def wait_in_step(workdir: Path, key: str, since: float = 0.0) -> str:
    """Wait until a running job has step ``key`` in flight, started after ``since`` (read
    straight from the project's SQLite store: quicker than a command); return its id."""
    db = workdir / "state" / "agentgo.db"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(sqlite3.OperationalError),
            contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn,
        ):  # not created yet, or its tables not yet
            row = conn.execute(
                "SELECT job_id FROM steps JOIN jobs ON jobs.id = job_id WHERE key = ? "
                "AND steps.status = 'running' AND jobs.status = 'running' AND started_at > ?",
                (key, since),
            ).fetchone()
            if row is not None:
                return str(row[0])
        time.sleep(0.02)
    pytest.fail(f"no job got to step '{key}' within 15s")


def _interrupt(workdir: Path, *args: str) -> tuple[str, str, str, float]:
    """Start `agentgo <args>`, press Ctrl-C while step 'slow' runs; (job id, stdout,
    stderr, seconds from the signal to the exit)."""
    began = time.time()
    proc = subprocess.Popen(
        [str(AGENTGO), *args],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job_id = wait_in_step(workdir, "slow", since=began)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    return job_id, out, err, took


def _check_given_up(workdir: Path, job_id: str) -> float:
    """The job is queued again, its log says why; return when 'first' started."""
    job = show(workdir, job_id)
    assert (job["status"], job["error"]) == ("queued", None)
    steps = {s["key"]: s["status"] for s in job["steps"]}
    assert steps == {"first": "succeeded", "slow": "running"}
    logs = agentgo(workdir, "jobs", "logs", job_id)
    assert logs.stdout.splitlines()[-1].endswith("job        interrupted by the user")
    first: float = job["steps"][0]["started_at"]
    return first


@pytest.mark.parametrize("finish", ["resume", "worker"])
def test_ctrl_c_gives_the_job_up_and_it_is_finished_at_once(
    project: Write, workdir: Path, finish: str
) -> None:
    job_id, out, err, took = _interrupt(workdir, "run", "nap", "--quiet")
    assert took < 3, f"the run stopped {took:.1f}s after Ctrl-C"
    assert out == ""
    assert err == (
        f"interrupted: job {job_id} stopped at step slow; finish it with: agentgo resume {job_id}\n"
    )
    first_started = _check_given_up(workdir, job_id)

    if finish == "resume":  # no --force, and no lease to wait for
        done = agentgo(workdir, "resume", job_id, "--quiet")
        assert done.returncode == 0, done.stderr
        assert done.stdout == "said: rested\n"
    else:
        done = agentgo(workdir, "-p", "p", "worker", "--once", "--poll", "0.05")
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines()[-1] == "worker ran 1 job"
    job = show(workdir, job_id)
    assert (job["status"], job["outputs"]) == ("succeeded", {"said": "rested"})
    steps = {s["key"]: s for s in job["steps"]}
    assert [(k, s["status"], s["attempt"]) for k, s in steps.items()] == [
        ("first", "succeeded", 1),
        ("slow", "succeeded", 1),
        ("last", "succeeded", 1),
    ]
    assert steps["first"]["started_at"] == first_started  # not run again


def test_ctrl_c_on_resume_gives_the_job_up_again(project: Write, workdir: Path) -> None:
    job_id, _, _, _ = _interrupt(workdir, "run", "nap", "--quiet")
    again, out, err, _ = _interrupt(workdir, "-p", "p", "resume", job_id, "--quiet")
    assert (again, out) == (job_id, "")
    assert err == (
        f"interrupted: job {job_id} stopped at step slow; finish it with: "
        f"agentgo -p p resume {job_id}\n"
    )
    _check_given_up(workdir, job_id)
    lines = agentgo(workdir, "jobs", "logs", job_id).stdout.splitlines()
    said = [re.sub(r"^\S+ \S+ job +", "", line) for line in lines]
    assert [
        re.sub(r"resumed by \S+ ", "resumed by X ", m)
        for m in said
        if "resumed" in m or "user" in m
    ] == [
        "interrupted by the user",
        "nap resumed by X with 1 finished steps",
        "interrupted by the user",
    ]
