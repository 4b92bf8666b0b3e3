"""A project served for the server tests, and two ways to serve it for real on loopback:
``ThreadServer`` (``create_app`` on uvicorn in a thread of the test, whose state the test
can reach) and ``ServeChild`` (the installed ``agentgo serve`` as a child process, its
stderr kept).

The project has four tokens, each its own principal: alice (scope ``research.read``), bob
(none), root (``agentgo:admin``, configured by its sha256 only) and a gateway
(``agentgo:impersonate``). The tokens are new random strings in every test session, read
from files of the project.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.engine.engine_tools import COMMON

if TYPE_CHECKING:
    from agentgo_cli.server.app import ServerState

AGENTGO = Path(sys.executable).with_name("agentgo")
REPO = Path(__file__).resolve().parents[2]

TOKENS = {name: f"{name}-{secrets.token_urlsafe(24)}" for name in ("alice", "bob", "root", "gate")}
"""Each principal's token (unique text, so a test can look for it anywhere)."""
PRINCIPALS = {
    "alice": "user:alice",
    "bob": "user:bob",
    "root": "user:root",
    "gate": "service:gateway",
}

SERVE_MANIFESTS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: slow-mark}
spec:
  input:
    type: object
    required: [label, seconds]
    properties: {label: {type: string}, seconds: {type: number}}
  runtime: {type: python, entrypoint: "tests.server.serve_tools:slow_mark"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: sleepy}
spec:
  model: scripted:demo
  latency: 3s
  script:
    - reply: "rested"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: research-card}
spec:
  target: agent:writer
  intents:
    - name: research.summarize
      version: 1.0.0
      description: Summarize a topic.
      input: {type: object, required: [topic], properties: {topic: {type: string}}}
      prompt: "Summarize ${{ input.topic }}."
      acl:
        allow:
          - principal: "user:*"
            scopes: [research.read]
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: ponder-card}
spec:
  target: agent:sleepy
  intents:
    - name: slow.ponder
      version: 1.0.0
      input: {type: object, required: [topic], properties: {topic: {type: string}}}
      prompt: "Ponder ${{ input.topic }}."
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: quick}
spec:
  inputs:
    text: {type: string, default: "hello"}
  steps:
    - id: say
      tool: echo
      with: {text: "${{ inputs.text }}"}
  outputs:
    said: ${{ steps.say.output.text }}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: marked}
spec:
  inputs:
    slow: {type: number, default: 2}
  steps:
    - id: one
      tool: slow-mark
      with: {label: "first", seconds: 0.1}
    - id: two
      tool: slow-mark
      with: {label: "second", seconds: "${{ inputs.slow }}"}
    - id: three
      tool: slow-mark
      with: {label: "third", seconds: 0.1}
  outputs:
    labels:
      - ${{ steps.one.output.label }}
      - ${{ steps.two.output.label }}
      - ${{ steps.three.output.label }}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: napping}
spec:
  inputs:
    seconds: {type: number, default: 60}
  steps:
    - id: first
      tool: echo
      with: {text: "quick"}
    - id: long
      tool: nap
      with: {seconds: "${{ inputs.seconds }}"}
"""


def config_text(serve: str = "", *, port: int = 0, workers: int = 0) -> str:
    """agentgo.yaml of the project: profile ``p`` (its store), the four tokens, and
    ``serve`` settings (more of them in ``serve``, YAML lines under 'serve:')."""
    root_digest = hashlib.sha256(TOKENS["root"].encode()).hexdigest()
    extra = textwrap.indent(textwrap.dedent(serve).strip("\n"), "  ")
    return f"""\
profile: p
profiles:
  p: {{store: 'sqlite:///state/agentgo.db', manifests: [./m]}}
serve:
  host: 127.0.0.1
  port: {port}
  workers: {workers}
  tokens:
    - {{token: '${{file:tokens/alice}}', principal: user:alice, scopes: [research.read]}}
    - {{token: '${{file:tokens/bob}}', principal: user:bob}}
    - {{sha256: {root_digest}, principal: user:root, scopes: ['agentgo:admin']}}
    - token: '${{file:tokens/gate}}'
      principal: 'service:gateway'
      scopes: ['agentgo:impersonate']
{extra}
"""


def write_project(root: Path, serve: str = "", *, workers: int = 0) -> Path:
    """Write the project under ``root``; its agentgo.yaml."""
    (root / "m").mkdir(parents=True, exist_ok=True)
    (root / "tokens").mkdir(exist_ok=True)
    for name in ("alice", "bob", "gate"):
        (root / "tokens" / name).write_text(TOKENS[name] + "\n")
    (root / "m" / "common.yaml").write_text(textwrap.dedent(COMMON).lstrip())
    (root / "m" / "serve.yaml").write_text(textwrap.dedent(SERVE_MANIFESTS).lstrip())
    path = root / "agentgo.yaml"
    path.write_text(config_text(serve, workers=workers))
    return path


def point_remote(config_path: Path, url: str, **extra: str) -> None:
    """Give the project's agentgo.yaml the profiles ``remote`` (alice's token) and
    ``as-bob`` (bob's), sending commands to ``url`` (``extra``: more of their settings)."""
    more = "".join(f", {k}: '{v}'" for k, v in extra.items())
    lines = [
        line
        for line in config_path.read_text().splitlines(keepends=True)
        if not line.startswith(("  remote:", "  as-bob:"))
    ]
    at = lines.index("profiles:\n") + 1
    lines[at:at] = [
        f"  remote: {{server: '{url}', token: '${{file:tokens/alice}}'{more}}}\n",
        f"  as-bob: {{server: '{url}', token: '${{file:tokens/bob}}'{more}}}\n",
    ]
    config_path.write_text("".join(lines))


def headers(who: str) -> dict[str, str]:
    """The Authorization header of a principal's token."""
    return {"Authorization": f"Bearer {TOKENS[who]}"}


class ThreadServer:
    """``create_app`` of a project on uvicorn, on a loopback socket of its own, in a thread
    with its own event loop (``run`` runs a coroutine there: the app's state is the test's
    to steer)."""

    def __init__(self, config_path: Path, **settings: Any) -> None:
        import uvicorn

        from agentgo_cli.config import load_config
        from agentgo_cli.manifests.models.config import ServeSettings
        from agentgo_cli.server.app import create_app
        from agentgo_cli.server.run import bind

        config = load_config(path=config_path).check()
        base = (config.data.serve if config.data else None) or ServeSettings()
        app = create_app(config, settings=base.model_copy(update=settings))
        self.state: ServerState = app.state.agentgo
        self._sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="critical", lifespan="on", timeout_graceful_shutdown=5)
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="agentgo-serve-test")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test's server did not start")
            time.sleep(0.01)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve(sockets=[self._sock]))
        finally:
            self.loop.close()

    def run(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop; its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def client(self, who: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers=headers(who) if who else {}, timeout=30, trust_env=False
        )

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=60)
        self._sock.close()
        if self._thread.is_alive():
            raise RuntimeError("the test's server did not stop")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child ``agentgo``: no AGENTGO_*, the repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


class ServeChild:
    """``agentgo serve --port 0`` in ``cwd`` as a child process; ``url`` once it listens.
    Its stderr is kept in ``lines``."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [str(AGENTGO), "serve", "--port", "0", *args],
            cwd=cwd,
            env=env or child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(30) or self.url is None:
            self.kill()
            raise RuntimeError("agentgo serve did not start:\n" + self.stderr)

    url: str | None = None

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if "listening on " in line and self.url is None:
                self.url = line.rsplit("listening on ", 1)[1].strip()
                self._listening.set()
        self._listening.set()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        """Its exit code, once it has exited (and its stderr is all read)."""
        code = self.proc.wait(timeout)
        self._close()
        return code

    def _close(self) -> None:
        self._reader.join(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(30)
        self._close()

    def stop(self) -> int:
        """SIGTERM, then its exit code (SIGKILL after 60 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
            raise


def agentgo(cwd: Path, *args: str, timeout: float = 60) -> Any:
    """The installed ``agentgo`` run to its end in ``cwd``."""
    return subprocess.run(
        [str(AGENTGO), *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- a project's jobs, as the lifecycle and crash tests follow them ----------------------


def marks(root: Path) -> list[tuple[str, str, str]]:
    """(start|end, job id, step id) of every slow-mark execution, in order."""
    path = root / "marks"
    if not path.exists():
        return []
    return [tuple(line.split("\t")) for line in path.read_text().splitlines()]  # type: ignore[misc]


def wait_for_mark(root: Path, what: str, step: str, timeout: float = 20) -> str:
    """Wait until a ``what`` mark of ``step`` is written; the job id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for kind, job_id, step_id in marks(root):
            if (kind, step_id) == (what, step):
                return job_id
        time.sleep(0.02)
    pytest.fail(f"no '{what}' mark of step {step} within {timeout}s: {marks(root)}")


def db_rows(root: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{root / 'state' / 'agentgo.db'}?mode=ro", uri=True) as conn:
        return conn.execute(sql, args).fetchall()


def job_state(root: Path, job_id: str) -> tuple[str, str | None, dict[str, str]]:
    """(status, lease owner, {step key: status}) of a job, read from the store."""
    [(status, owner)] = db_rows(root, "SELECT status, lease_owner FROM jobs WHERE id = ?", job_id)
    steps = dict(db_rows(root, "SELECT key, status FROM steps WHERE job_id = ?", job_id))
    return status, owner, steps


def finished(project: Path, job_id: str) -> Any:
    """Follow a job through the remote profile to its end; its outputs."""
    watched = agentgo(project, "-p", "remote", "jobs", "watch", job_id, "-o", "json")
    assert watched.returncode == 0, watched.stderr
    shown = agentgo(project, "-p", "remote", "jobs", "show", job_id, "-o", "json")
    job = json.loads(shown.stdout)
    assert job["status"] == "succeeded", job
    return job["outputs"]


def start_run(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(AGENTGO), "-p", "remote", "run", *args],
        cwd=project,
        env=child_env(AG_TEST_MARKS=str(project / "marks")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def serve_remote(project: Path, *args: str) -> ServeChild:
    server = ServeChild(project, *args, env=child_env(AG_TEST_MARKS=str(project / "marks")))
    assert server.url is not None
    point_remote(project / "agentgo.yaml", server.url)
    return server
