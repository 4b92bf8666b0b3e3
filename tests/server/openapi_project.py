"""A small served project for the OpenAPI tests: intents (one whose input schema has
``$defs``), a workflow with a python tool, and tokens for ``user:alice`` and an
impersonating ``service:ci``; served by ``serving.ThreadServer``.

The project lives in a folder of its own (not the test's working folder), so one server
can serve a whole test module.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.a2a.test_lifecycle import MANIFESTS
from tests.cli.test_json_views import WORKFLOW
from tests.server.serving import ThreadServer

TOKEN = "openapi-test-token-0123456789"
"""The bearer token of ``user:alice`` (its digest is in the config)."""
IMPERSONATOR = "openapi-test-token-impersonate"
"""A token of ``service:ci`` that may act as anyone (``agentgo:impersonate``)."""

SHAPES = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: measurer}
spec:
  model: scripted:demo
  script:
    - reply: {area: 2.5, unit: m2}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: shapes-card}
spec:
  target: agent:measurer
  intents:
    - name: shapes.area
      version: 2.0.0
      description: The area of a shape.
      input:
        type: object
        required: [shape]
        additionalProperties: false
        properties:
          shape: {$ref: "#/$defs/shape"}
          note: {type: string, maxLength: 20}
        $defs:
          shape:
            type: object
            required: [kind, size]
            additionalProperties: false
            properties:
              kind: {enum: [square, circle]}
              size: {type: number, minimum: 0, maximum: 100}
      output:
        type: object
        required: [area]
        properties: {area: {type: number}, unit: {type: string}}
      prompt: "The area of a ${{ input.shape.kind }}."
      examples:
        - input: {shape: {kind: square, size: 2}}
          output: {area: 4}
          description: A square of side 2.
        - input: {shape: {kind: circle, size: 1}, note: unit}
"""


SLOW = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: doze}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:doze"}
  input: {type: object, required: [seconds], properties: {seconds: {type: number}}}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: slow}
spec:
  inputs: {seconds: {type: number, default: 1}}
  steps:
    - id: nap
      tool: doze
      with: {seconds: "${{ inputs.seconds }}"}
"""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


CONFIG = f"""
profile: p
profiles:
  p: {{store: 'sqlite:///state/agentgo.db', manifests: [./m]}}
providers:
  scripted:
    prices: {{demo: {{input: 2.0, output: 4.0}}}}
serve:
  workers: 0
  request_timeout: 20
  tokens:
    - {{sha256: {_digest(TOKEN)}, principal: "user:alice", scopes: [research.read]}}
    - {{sha256: {_digest(IMPERSONATOR)}, principal: "service:ci", scopes: [agentgo:impersonate]}}
"""


def write_project(root: Path) -> Path:
    """Write the project under ``root``; return its agentgo.yaml."""
    (root / "m").mkdir(parents=True, exist_ok=True)
    (root / "m" / "all.yaml").write_text(MANIFESTS.lstrip("\n"), encoding="utf-8")
    (root / "m" / "wf.yaml").write_text(WORKFLOW.lstrip("\n"), encoding="utf-8")
    (root / "m" / "shapes.yaml").write_text(SHAPES.lstrip("\n"), encoding="utf-8")
    (root / "m" / "slow.yaml").write_text(SLOW.lstrip("\n"), encoding="utf-8")
    config = root / "agentgo.yaml"
    config.write_text(CONFIG.lstrip("\n"), encoding="utf-8")
    return config


@dataclass
class Served:
    """A running server of the project: its base URL and its headers for ``user:alice``."""

    url: str
    root: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}


@contextlib.contextmanager
def serving(root: Path) -> Iterator[Served]:
    """The project under ``root`` served on 127.0.0.1 (a free port) for the block, with
    ``root`` as ``HOME`` (so nothing of the user's is read)."""
    config_path = write_project(root)
    with _env(HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "home" / ".config")):
        server = ThreadServer(config_path)
        try:
            yield Served(server.url, root)
        finally:
            server.stop()


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
