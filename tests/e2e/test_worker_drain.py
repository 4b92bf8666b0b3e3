"""`agentgo worker` in a real process: a line per job as it takes and ends it, and on SIGTERM
it takes no new job, lets the running ones finish up to --drain seconds, gives up (releases)
what still runs so another worker takes it at once, and exits 0."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_interrupt import SLEEPY, STEPS, wait_in_step
from tests.e2e.test_worker import AGENTGO, _env, agentgo, detach, show
from tests.engine.engine_tools import COMMON, CONFIG, workflow

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

QUICK = """
steps:
  - id: say
    tool: echo
    with: {text: "hello"}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    write("m/sleepy.yaml", SLEEPY)
    workflow(write, STEPS, name="nap")
    workflow(write, QUICK, name="quick")
    return write


def test_the_worker_prints_a_line_per_job(project: Write, workdir: Path) -> None:
    job_id = detach(workdir, "quick")
    result = agentgo(workdir, "worker", "--once", "--poll", "0.05")
    assert (result.returncode, result.stdout) == (0, "")
    lines = result.stderr.splitlines()
    assert lines[0] == f"job {job_id} quick started"
    assert re.fullmatch(rf"job {job_id} succeeded in \d+\.\ds", lines[1]), lines
    assert lines[2:] == ["worker ran 1 job"]


def _worker(workdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(AGENTGO), "worker", "--poll", "0.05", *args],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _terminate(proc: subprocess.Popen[str], workdir: Path) -> tuple[str, str]:
    """SIGTERM the worker once its job is in step 'slow'; a job queued after the signal
    is not taken. Returns (the late job's id, the worker's stderr)."""
    with proc:
        try:
            wait_in_step(workdir, "slow")
            proc.send_signal(signal.SIGTERM)
            late = detach(workdir, "quick")
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    return late, err


def test_sigterm_lets_the_running_job_finish_and_takes_no_new_one(
    project: Write, workdir: Path
) -> None:
    job_id = detach(workdir, "nap")
    late, err = _terminate(_worker(workdir, "--drain", "10"), workdir)
    lines = err.splitlines()
    assert lines[0] == f"job {job_id} nap started"
    assert lines[1] == "worker: stopping: no new jobs; waiting up to 10s for 1 running job"
    assert re.fullmatch(rf"job {job_id} succeeded in \d+\.\ds", lines[2]), lines
    assert lines[3:] == ["worker ran 1 job"]
    assert show(workdir, job_id)["status"] == "succeeded"
    assert show(workdir, late)["status"] == "queued"


def test_past_the_drain_the_job_is_released_and_another_worker_takes_it_at_once(
    project: Write, workdir: Path
) -> None:
    job_id = detach(workdir, "nap")
    _, err = _terminate(_worker(workdir, "--drain", "0.1"), workdir)
    assert err.splitlines()[1:] == [
        "worker: stopping: no new jobs; waiting up to 0.1s for 1 running job",
        f"job {job_id} released: another worker takes it at once",
        "worker ran 0 jobs",
    ]
    job = show(workdir, job_id)
    assert job["status"] == "queued"
    first = job["steps"][0]
    assert (first["key"], first["status"]) == ("first", "succeeded")

    again = agentgo(workdir, "worker", "--once", "--poll", "0.05")
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines()[-1] == "worker ran 2 jobs"  # the released one, and 'late'
    done = show(workdir, job_id)
    assert (done["status"], done["outputs"]) == ("succeeded", {"said": "rested"})
    assert done["steps"][0] == first  # its finished step did not run again


def test_ctrl_c_releases_the_running_job_at_once(project: Write, workdir: Path) -> None:
    job_id = detach(workdir, "nap")
    with _worker(workdir) as proc:
        try:
            wait_in_step(workdir, "slow")
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == "interrupted"
    job = show(workdir, job_id)
    assert job["status"] == "queued"  # no lease to wait for: the next worker takes it
    again = agentgo(workdir, "worker", "--once", "--poll", "0.05")
    assert again.stderr.splitlines()[-1] == "worker ran 1 job"
    assert show(workdir, job_id)["status"] == "succeeded"
