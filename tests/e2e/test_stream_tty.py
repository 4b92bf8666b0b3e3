"""`agentgo run` on a real terminal (a pseudo-terminal on stderr): the running agent step's
reply shows as the model streams it; with --no-stream (or -q) it never does."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, _env
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.remote import served_variant

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

TALE = "Once upon a time a very patient fox waited for the slow model to finish its story."

TELLER = f"""
apiVersion: agentgo/v1
kind: Agent
metadata: {{name: teller}}
spec:
  model: scripted:demo
  latency: 1500ms
  script:
    - reply: "{TALE}"
"""


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    write("m/teller.yaml", TELLER)
    workflow(
        write,
        """
        steps:
          - id: tell
            agent: teller
            prompt: a story
        outputs:
          tale: ${{ steps.tell.output }}
        """,
        name="story",
    )
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


def _on_a_terminal(cwd: Path, *args: str) -> tuple[int, str, str]:
    """Run `agentgo <args>` with stderr on a pseudo-terminal 100 columns wide; return the
    exit code, stdout and everything the terminal received."""
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = _env()
    env.update(TERM="xterm-256color", NO_COLOR="1")
    env.pop("COLUMNS", None)
    proc = subprocess.Popen(
        [str(AGENTGO), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=side,
    )
    os.close(side)
    received = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.1)
            if ready:
                try:
                    data = os.read(main, 65536)
                except OSError:  # the other side closed: the process is gone
                    break
                if not data:
                    break
                received += data
            elif proc.poll() is not None:
                break
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        code = proc.wait(timeout=10)
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    return code, out, received.decode(errors="replace")


def test_the_reply_shows_as_it_streams(project: Write, workdir: Path) -> None:
    code, out, terminal = _on_a_terminal(workdir, "run", "story")
    assert code == 0, terminal
    assert out == f"tale: {TALE}\n"
    assert "tell (agent) running" in terminal
    assert "Once upon a time" in terminal  # a piece of the reply, while the step ran
    assert "✓ tell (agent) succeeded" in terminal


@pytest.mark.parametrize("flag", ["--no-stream", "-q"])
def test_no_stream_or_quiet_shows_no_reply(project: Write, workdir: Path, flag: str) -> None:
    code, out, terminal = _on_a_terminal(workdir, "run", "story", flag)
    assert code == 0, terminal
    assert out == f"tale: {TALE}\n"
    assert "Once upon" not in terminal
    if flag == "--no-stream":
        assert "✓ tell (agent) succeeded" in terminal
