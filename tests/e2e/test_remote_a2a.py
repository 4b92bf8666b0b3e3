"""One AgentGo project calls another's intent over A2A 1.0, as users run it: `agentgo serve`
(a real child process on a loopback port) is the remote agent, and the calling project's
card says ``target: a2a:http://127.0.0.1:<port>`` with the server's token from a secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

AGENTGO = Path(sys.executable).with_name("agentgo")
pytestmark = pytest.mark.skipif(
    not AGENTGO.exists(), reason=f"agentgo is not installed next to {sys.executable}"
)

TOKEN = "e2e-a2a-token-4d9b1c7e55"
PROJECT = """\
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
"""
SERVED = """\
apiVersion: agentgo/v1
kind: Agent
metadata: {name: summarizer}
spec:
  model: scripted:demo
  script:
    - reply: {summary: "Three sources agree."}
  output_schema: {type: object, required: [summary], properties: {summary: {type: string}}}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: research-card}
spec:
  target: agent:summarizer
  intents:
    - name: research.summarize
      version: 1.2.0
      input: {type: object, required: [topic], properties: {topic: {type: string}}}
      output: {type: object, required: [summary], properties: {summary: {type: string}}}
      prompt: "Summarize ${{ input.topic }}."
"""
CALLING = """\
apiVersion: agentgo/v1
kind: Capability
metadata: {name: remote-research}
spec:
  target: a2a:URL
  auth: {token: "${env:RESEARCH_TOKEN}"}
  intents:
    - name: research.summarize
      version: 1.2.0
      input: {type: object, required: [topic], properties: {topic: {type: string}}}
      output: {type: object, required: [summary], properties: {summary: {type: string}}}
      timeout: 60s
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: digest}
spec:
  steps:
    - id: ask
      call: research.summarize@^1
      input: {topic: batteries}
  outputs:
    summary: ${{ steps.ask.output.summary }}
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and k != "RESEARCH_TOKEN"}
    return {**env, **extra}


def agentgo(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AGENTGO), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(**env),
        timeout=120,
        check=False,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`agentgo serve --port 0` of a project serving research.summarize; its URL."""
    root = tmp_path / "served"
    (root / "m").mkdir(parents=True)
    (root / "agentgo.yaml").write_text(
        PROJECT + 'serve:\n  tokens: [{token: "${env:SERVE_TOKEN}", principal: "user:alice"}]\n'
    )
    (root / "m" / "all.yaml").write_text(SERVED)
    proc = subprocess.Popen(
        [str(AGENTGO), "serve", "--port", "0", "--workers", "1"],
        cwd=root,
        env=_env(SERVE_TOKEN=TOKEN),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    url = None
    for line in proc.stderr:
        seen.append(line)
        if "listening on " in line:
            url = line.rsplit("listening on ", 1)[1].strip()
            break
    if url is None:
        proc.kill()
        pytest.fail("agentgo serve did not start:\n" + "".join(seen))
    drain = threading.Thread(target=lambda: [None for _ in proc.stderr or ()], daemon=True)
    drain.start()
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        drain.join(timeout=5)
        proc.stderr.close()


@pytest.fixture
def calling(tmp_path: Path, served: str) -> Path:
    root = tmp_path / "calling"
    (root / "m").mkdir(parents=True)
    (root / "agentgo.yaml").write_text(PROJECT)
    (root / "m" / "all.yaml").write_text(CALLING.replace("URL", served))
    return root


def test_agentgo_call_and_a_call_step_reach_another_agentgo_over_a2a(calling: Path) -> None:
    done = agentgo(
        calling, "call", "research.summarize", "-i", "topic=x", "-o", "json", RESEARCH_TOKEN=TOKEN
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["output"] == {"summary": "Three sources agree."}
    assert record["chain"][-1].startswith("a2a:http://127.0.0.1:")
    assert TOKEN not in done.stdout + done.stderr

    run = agentgo(calling, "run", "m/all.yaml", "-o", "json", RESEARCH_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["outputs"] == {"summary": "Three sources agree."}


def test_the_servers_401_is_a_denied_call(calling: Path) -> None:
    done = agentgo(
        calling,
        "call",
        "research.summarize",
        "-i",
        "topic=x",
        RESEARCH_TOKEN="not-the-token-0000000000",
    )
    assert done.returncode == 4, done.stderr
    assert "refused the call (401)" in done.stderr
