"""A running `agentgo worker` reloads its manifests on SIGHUP and, with --watch, when a file
changes: a valid set is swapped in whole, a broken one is refused and the old one stays."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_worker import AGENTGO, _env, agentgo
from tests.engine.engine_tools import COMMON, CONFIG, seed_job, workflow

Write = Callable[[str, str], Path]

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")

ECHO = """
steps:
  - id: say
    tool: echo
    with: {text: "VERSION"}
outputs:
  said: ${{ steps.say.output.text }}
"""


class Worker:
    """A worker process whose stderr lines arrive on a queue."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(AGENTGO), "worker", *args],
            cwd=cwd,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def expect(self, fragment: str, within: float = 15.0) -> str:
        deadline = time.monotonic() + within
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"no line with {fragment!r} from the worker; saw {seen}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=15)
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def worker_in(write: Write, workdir: Path) -> Iterator[Callable[..., Worker]]:
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, ECHO.replace("VERSION", "one"))
    started: list[Worker] = []

    def start(*args: str) -> Worker:
        worker = Worker(workdir, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _run_detached(workdir: Path) -> None:
    result = agentgo(workdir, "run", "wf", "--detach", "-o", "json")
    assert result.returncode == 0, result.stderr


def _said(workdir: Path) -> list[str]:
    import json

    listed = agentgo(workdir, "jobs", "list", "--status", "succeeded", "-o", "json")
    return [j["outputs"]["said"] for j in json.loads(listed.stdout)]


def _wait_for(check: Callable[[], bool], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_watch_swaps_in_a_valid_set_and_refuses_a_broken_one(
    worker_in: Callable[..., Worker], write: Write, workdir: Path
) -> None:
    worker = worker_in("--watch", "--poll", "0.1")
    _run_detached(workdir)
    _wait_for(lambda: _said(workdir) == ["one"])
    write("m/wf.yaml", "apiVersion: agentgo/v1\nkind: Workflow\nspec: [broken\n")
    line = worker.expect("reload refused")
    assert "the previous manifests stay in use" in line and "wf.yaml" in line
    # A job queued now (run would refuse the broken file) runs on the set still in use.
    seed_job("wf", {}, status="queued")
    _wait_for(lambda: _said(workdir) == ["one", "one"])
    workflow(write, ECHO.replace("VERSION", "two"))
    worker.expect("reloaded")
    # Jobs submitted now run with the new set (the file is valid again, so run accepts it).
    _run_detached(workdir)
    _wait_for(lambda: sorted(_said(workdir)) == ["one", "one", "two"])


def test_sighup_reloads(worker_in: Callable[..., Worker], write: Write, workdir: Path) -> None:
    worker = worker_in("--poll", "0.1")
    _run_detached(workdir)
    _wait_for(lambda: _said(workdir) == ["one"])
    workflow(write, ECHO.replace("VERSION", "three"))
    worker.proc.send_signal(signal.SIGHUP)
    worker.expect("reloaded")
