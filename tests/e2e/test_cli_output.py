"""What the shell sees of the installed `agentgo`: a detached job's id captured with $( ),
output cut short by `head`, and JSON on a terminal; run here and through a remote profile."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, _env, agentgo
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.remote import served_variant

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

QUICK = """
steps:
  - id: say
    tool: echo
    with: {text: "hello"}
"""

MANY = """
inputs:
  n: {type: integer, default: 1500}
steps:
  - id: each
    foreach: ${{ range(inputs.n) | list }}
    as: i
    steps:
      - id: say
        tool: echo
        with: {text: "item ${{ i }}"}
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, QUICK, name="quick")
    workflow(write, MANY, name="many")
    return write


@pytest.fixture(params=["local", "remote"], autouse=True)
def backend_kind(
    request: pytest.FixtureRequest,
    project: Write,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """Each test twice: the project run here, and sent to an ``agentgo serve`` of it (a
    child process) through a remote profile, with the same assertions."""
    yield from served_variant(request.param, request.node, workdir, monkeypatch.setenv)


def sh(cwd: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = _env() | {"AGENTGO": str(AGENTGO)}
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_id_of_a_detached_job_is_captured_by_the_shell(project: Write, workdir: Path) -> None:
    done = sh(
        workdir, 'JOB=$("$AGENTGO" run quick --detach) && "$AGENTGO" jobs show "$JOB" -o json'
    )
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert (job["workflow"], job["status"]) == ("quick", "queued")
    jid = job["job_id"]
    assert done.stderr == (
        f"job {jid} queued: an 'agentgo worker' runs it; follow it with: agentgo jobs watch {jid}\n"
    )

    detached = agentgo(workdir, "run", "quick", "--detach")
    assert detached.returncode == 0
    assert detached.stdout.count("\n") == 1 and detached.stdout.startswith("j-")  # only the id
    as_json = agentgo(workdir, "run", "quick", "--detach", "-o", "json")
    assert (as_json.returncode, as_json.stderr) == (0, "")
    assert json.loads(as_json.stdout)["status"] == "queued"  # the JobView


def test_jobs_show_into_head_ends_quietly(project: Write, workdir: Path) -> None:
    ran = agentgo(workdir, "run", "many", "--quiet", "-o", "json")
    assert ran.returncode == 0, ran.stderr
    job_id = json.loads(ran.stdout)["job_id"]
    # Far more than a pipe holds: the reader is gone while agentgo still writes.
    script = f'"$AGENTGO" jobs show {job_id} | head -3; echo "${{PIPESTATUS[0]}}" > status'
    done = sh(workdir, script)
    assert done.returncode == 0
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"job {job_id}  workflow many")
    assert (workdir / "status").read_text() == "141\n"  # as a command killed by SIGPIPE


def test_json_on_a_terminal_is_indented(project: Write, workdir: Path) -> None:
    for _ in range(2):
        assert agentgo(workdir, "run", "quick", "--quiet").returncode == 0
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [str(AGENTGO), "jobs", "list", "-o", "json"],
        cwd=workdir,
        env=_env(),
        stdout=follower,
        stderr=subprocess.PIPE,
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0
    os.close(leader)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert text.startswith('[\n  {\n    "job_id": "j-')
    assert len(json.loads(text)) == 2
