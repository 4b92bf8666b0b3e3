"""A project served over A2A for the A2A tests: a public skill, an internal one with a
typed output, a slow one (to be cancelled or watched) and one of two seconds (to be
interrupted by a crash), with tokens for alice and bob;
``Served`` runs ``create_app`` for it on uvicorn on a loopback port in a thread."""

from __future__ import annotations

import hashlib
import secrets
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

ALICE = secrets.token_urlsafe(24)
BOB = secrets.token_urlsafe(24)

MANIFESTS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: greeter}
spec:
  model: scripted:greeter
  script:
    - reply: "Hello from AgentGo"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: researcher}
spec:
  model: scripted:researcher
  usage: {input_tokens: 120, output_tokens: 40}
  script:
    - reply: {summary: "Three sources agree."}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: sloth}
spec:
  model: scripted:sloth
  latency: 20s
  script:
    - reply: "finally"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: plodder}
spec:
  model: scripted:plodder
  latency: 2s
  script:
    - reply: "done at last"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: plod-card}
spec:
  target: agent:plodder
  intents:
    - name: plod.along
      version: 1.0.0
      description: Take two seconds.
      input: {type: string}
      output: {type: string}
      prompt: "${{ input }}"
      classification: internal
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: greet-card}
spec:
  target: agent:greeter
  intents:
    - name: greet.hello
      version: 1.0.0
      description: Say hello.
      input: {type: string}
      output: {type: string}
      prompt: "Say hello to ${{ input }}"
      classification: public
      examples:
        - input: "Ada"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: research-card}
spec:
  target: agent:researcher
  intents:
    - name: research.summarize
      version: 1.2.0
      description: Summarize a topic from public sources.
      input:
        type: object
        required: [topic]
        properties: {topic: {type: string}, depth: {type: integer}}
      output:
        type: object
        required: [summary]
        properties: {summary: {type: string}}
      prompt: "Summarize ${{ input.topic }}"
      classification: internal
      tags: [research]
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: slow-card}
spec:
  target: agent:sloth
  intents:
    - name: slow.wait
      version: 1.0.0
      description: Take a long time.
      input: {type: string}
      output: {type: string}
      prompt: "${{ input }}"
      classification: internal
"""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def write_project(
    root: Path,
    *,
    default_skill: str | None = None,
    anonymous_tasks: bool = False,
    request_timeout: float | None = None,
) -> Path:
    """The project's files under ``root``; its agentgo.yaml."""
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    (root / "manifests" / "a2a.yaml").write_text(textwrap.dedent(MANIFESTS).lstrip())
    serve = [
        "serve:",
        "  tokens:",
        f"    - {{sha256: {_digest(ALICE)}, principal: 'user:alice'}}",
        f"    - {{sha256: {_digest(BOB)}, principal: 'user:bob'}}",
    ]
    if default_skill:
        serve.append(f"  default_skill: {default_skill}")
    if anonymous_tasks:
        serve.append("  anonymous_tasks: true")
    if request_timeout is not None:
        serve.append(f"  request_timeout: {request_timeout}")
    config = root / "agentgo.yaml"
    config.write_text(
        "profile: local\n"
        "profiles:\n"
        "  local:\n"
        "    store: sqlite:///.agentgo/agentgo.db\n"
        "    manifests: [./manifests]\n" + "\n".join(serve) + "\n"
    )
    return config


class Served:
    """The project's ``create_app`` on uvicorn in a thread, on a free loopback port."""

    def __init__(self, config_path: Path) -> None:
        import uvicorn

        from agentgo_cli.config import load_config
        from agentgo_cli.server.app import create_app

        config = load_config(None, config_path)
        settings = config.data.serve.model_copy(update={"workers": 0, "port": 0})  # type: ignore[union-attr]
        app = create_app(config, settings=settings)
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                log_level="critical",
                lifespan="on",
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(target=self.server.run, name="a2a-test-server")
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the A2A test server did not start")
            time.sleep(0.01)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=30)


def headers(token: str | None) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"} if token else {}
