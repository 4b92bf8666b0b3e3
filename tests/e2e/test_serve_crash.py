"""A job started through a remote profile survives a SIGKILL of ``agentgo serve``: the
server started again on the same store takes the job over at once (its owner, a process of
this host, is gone), finishes it without redoing its committed steps, and its outputs are
those of an undisturbed run."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.server.serving import (
    AGENTGO,
    ServeChild,
    agentgo,
    child_env,
    finished,
    job_state,
    marks,
    serve_remote,
    start_run,
    wait_for_mark,
    write_project,
)

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")


def test_a_job_outlives_a_killed_server(tmp_path: Path) -> None:
    write_project(tmp_path, workers=1)
    undisturbed = subprocess.run(
        [str(AGENTGO), "run", "marked", "-i", "slow=0.1", "-o", "json"],
        cwd=tmp_path,
        env=child_env(AG_TEST_MARKS=str(tmp_path / "marks-undisturbed")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert undisturbed.returncode == 0, undisturbed.stderr
    expected = json.loads(undisturbed.stdout)["outputs"]

    server = serve_remote(tmp_path, "--workers", "1")
    client = start_run(tmp_path, "marked", "-i", "slow=2", "-o", "json")
    try:
        job_id = wait_for_mark(tmp_path, "start", "two")
        server.signal(signal.SIGKILL)
        assert server.wait(30) == -signal.SIGKILL
    finally:
        server.kill()
    _, err = client.communicate(timeout=30)
    assert client.returncode == 1
    assert "Traceback" not in err
    status, _, steps = job_state(tmp_path, job_id)
    assert status == "running"  # as the killed server left it
    assert steps == {"one": "succeeded", "two": "running"}

    again: ServeChild = serve_remote(tmp_path, "--workers", "1")
    try:
        outputs = finished(tmp_path, job_id)
    finally:
        assert again.stop() == 0
    assert outputs == expected == {"labels": ["first", "second", "third"]}
    ran = [(kind, step) for kind, job, step in marks(tmp_path) if job == job_id]
    assert ran == [
        ("start", "one"),
        ("end", "one"),
        ("start", "two"),  # killed in this step: it is the only one run again
        ("start", "two"),
        ("end", "two"),
        ("start", "three"),
        ("end", "three"),
    ]
    logs = agentgo(tmp_path, "jobs", "logs", job_id)
    assert "marked resumed by " in logs.stdout
    assert "with 1 finished steps" in logs.stdout
