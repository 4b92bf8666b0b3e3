"""`agentgo jobs watch` in a real process: the live step tree of a job that another process
runs (here a worker), ending with the job's status line and run's exit code; a job that
already ended is shown at once."""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_interrupt import SLEEPY, STEPS, wait_in_step
from tests.e2e.test_worker import AGENTGO, _env, agentgo, detach
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.remote import served_variant

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

FAILING = """
steps:
  - id: first
    tool: echo
    with: {text: "quick"}
  - id: broken
    tool: boom
    with: {reason: "no luck"}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    write("m/sleepy.yaml", SLEEPY)
    workflow(write, STEPS, name="nap")
    workflow(write, FAILING, name="failing")
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


STEP_LINE = r"✓ {} \({}\) succeeded \d+\.\d\ds"


def test_watch_shows_the_steps_of_a_job_a_worker_runs_until_it_ends(
    project: Write, workdir: Path
) -> None:
    job_id = detach(workdir, "nap")
    worker = subprocess.Popen(
        [str(AGENTGO), "-p", "p", "worker", "--poll", "0.05"],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_in_step(workdir, "slow")  # it runs elsewhere, and is not over yet
        watched = agentgo(workdir, "jobs", "watch", job_id)
        assert show_status(workdir, job_id) == "succeeded"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout == "said: rested\n"
    lines = watched.stderr.splitlines()
    assert len(lines) == 4, lines
    expected = [("first", "tool"), ("slow", "agent"), ("last", "tool")]
    for line, (key, kind) in zip(lines[:3], expected, strict=True):
        assert re.fullmatch(STEP_LINE.format(re.escape(key), kind), line), line
    assert re.fullmatch(rf"job {job_id} succeeded in \d+\.\d\ds, 0 tokens", lines[3]), lines


def show_status(workdir: Path, job_id: str) -> str:
    result = agentgo(workdir, "jobs", "show", job_id, "-o", "json")
    status: str = json.loads(result.stdout)["status"]
    return status


def test_watch_of_a_job_that_ended_shows_it_at_once_with_runs_exit_code(
    project: Write, workdir: Path
) -> None:
    ran = agentgo(workdir, "run", "failing", "--quiet", "-o", "json")
    assert ran.returncode == 1
    job_id = json.loads(ran.stdout)["job_id"]
    watched = agentgo(workdir, "jobs", "watch", job_id)
    assert (watched.returncode, watched.stdout) == (1, "")
    lines = watched.stderr.splitlines()
    assert re.fullmatch(STEP_LINE.format("first", "tool"), lines[0]), lines
    assert lines[1].startswith("✗ broken (tool) failed ")
    assert lines[1].endswith("s: tool 'boom' raised ValueError: no luck"), lines
    assert re.fullmatch(
        rf"job {job_id} failed in \d+\.\d\ds, 0 tokens: step 'broken' failed: "
        r"tool 'boom' raised ValueError: no luck",
        lines[2],
    ), lines
    assert len(lines) == 3


def test_watch_json_streams_event_lines(project: Write, workdir: Path) -> None:
    ran = agentgo(workdir, "run", "failing", "--quiet", "-o", "json")
    job_id = json.loads(ran.stdout)["job_id"]
    watched = agentgo(workdir, "jobs", "watch", job_id, "-o", "json")
    assert (watched.returncode, watched.stderr) == (1, "")
    events = [json.loads(line) for line in watched.stdout.splitlines()]
    assert all(e["job_id"] == job_id for e in events)
    steps = [(e["step"]["key"], e["step"]["status"]) for e in events if e["step"]]
    assert steps == [("first", "succeeded"), ("broken", "failed")]
    assert events[-1]["kind"] == "end"
    assert events[-1]["data"]["status"] == "failed"


def test_watch_of_an_unknown_job_is_not_found(project: Write, workdir: Path) -> None:
    watched = agentgo(workdir, "jobs", "watch", "j-nope")
    assert (watched.returncode, watched.stdout, watched.stderr) == (
        3,
        "",
        "error: no job 'j-nope'\n",
    )


def test_watch_of_a_queued_job_says_it_waits_and_ctrl_c_leaves_the_job_alone(
    project: Write, workdir: Path
) -> None:
    job_id = detach(workdir, "nap")
    with subprocess.Popen(
        [str(AGENTGO), "jobs", "watch", job_id],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        ready, _, _ = select.select([proc.stderr], [], [], 15)
        first = proc.stderr.readline() if ready else "(nothing within 15s)"
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=15)
    assert first == f"job {job_id} is queued: waiting for an 'agentgo worker' to take it\n"
    assert (proc.returncode, out) == (130, "")
    assert rest == (
        f"interrupted: job {job_id} goes on; watch it again with: agentgo jobs watch {job_id}\n"
    )
    assert show_status(workdir, job_id) == "queued"
