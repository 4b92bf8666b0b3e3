"""Python tools the engine and CLI tests call through `tests.engine.engine_tools:<name>`,
and the manifests and project layout those tests share."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentgo_cli.tools.registry import ToolContext

calls: Counter[str] = Counter()
"""Executions per idempotency key (this process only)."""

in_flight = {"now": 0, "peak": 0}
"""Calls of `track` running at once, and the most seen."""


def reset() -> None:
    """Forget every count (call at the start of a test)."""
    calls.clear()
    in_flight.update(now=0, peak=0)


def echo(text: str) -> dict[str, Any]:
    """Return the text and its word count."""
    return {"text": text, "words": len(text.split())}


def flaky(label: str, ctx: ToolContext) -> dict[str, Any]:
    """Fail on the first two attempts of a step, then succeed."""
    calls[ctx.idempotency_key] += 1
    if ctx.attempt < 3:
        raise RuntimeError(f"flaky {label} attempt {ctx.attempt}")
    return {"label": label, "attempt": ctx.attempt, "key": ctx.idempotency_key}


def tally(label: str) -> dict[str, Any]:
    """Count a call per label (in this process): proves whether a target ran."""
    calls[label] += 1
    return {"label": label, "count": calls[label]}


def boom(reason: str) -> None:
    """Always raise."""
    raise ValueError(reason)


def once(label: str) -> dict[str, Any]:
    """Fail the first call per label (in this process), then answer."""
    calls[f"once:{label}"] += 1
    if calls[f"once:{label}"] == 1:
        raise RuntimeError(f"first call of {label}")
    return {"label": label}


def refuse(label: str) -> None:
    """Count a call (as ``refuse:<label>``), then raise."""
    calls[f"refuse:{label}"] += 1
    raise ValueError(f"no {label}")


async def nap(seconds: float) -> dict[str, float]:
    """Sleep on the event loop, then answer."""
    await asyncio.sleep(seconds)
    return {"slept": seconds}


async def track(label: str, seconds: float = 0.05) -> str:
    """Sleep a little while counting how many calls are in flight at once."""
    in_flight["now"] += 1
    in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
    try:
        await asyncio.sleep(seconds)
    finally:
        in_flight["now"] -= 1
    return label


def not_json() -> Any:
    """Return a value that is not JSON."""
    return {"when": {1, 2}}


def doze(seconds: float) -> dict[str, float]:
    """Sleep in the worker thread a sync tool runs in, then answer."""
    time.sleep(seconds)
    return {"slept": seconds}


# -- manifests -------------------------------------------------------------------------------

CONFIG = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
"""

COMMON = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: echo}
spec:
  input: {type: object, required: [text], properties: {text: {type: string}}}
  output: {type: object, required: [text, words]}
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:echo"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: flaky}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:flaky"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: boom}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:boom"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: nap}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:nap"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: track}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:track"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: writer}
spec:
  model: scripted:demo
  script:
    - reply: "draft about ${{ input }}"
  usage: {input_tokens: 10, output_tokens: 5}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: echoer}
spec:
  model: scripted:demo
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: editor}
spec:
  model: scripted:demo
  output_schema: {type: object, required: [approved], properties: {approved: {type: boolean}}}
  script:
    - when: "round 2"
      reply: {approved: true}
    - reply: {approved: false}
  usage: {input_tokens: 3, output_tokens: 1}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: sloppy}
spec:
  model: scripted:demo
  output_schema: {type: object, required: [approved], properties: {approved: {type: boolean}}}
  script:
    - when: "(?i)prose"
      reply: "Looks good to me."
    - reply: {approved: "yes"}
  usage: {input_tokens: 2, output_tokens: 1}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: summarizer}
spec:
  model: scripted:demo
  script:
    - reply: {summary: "${{ input }}"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: rambler}
spec:
  model: scripted:demo
  script:
    - reply: {words: 3}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: notjson}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:not_json"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: doze}
spec:
  runtime: {type: python, entrypoint: "tests.engine.engine_tools:doze"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: badscript}
spec:
  model: scripted:demo
  script:
    - reply: "${{ input.nope }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: slowpoke}
spec:
  model: scripted:demo
  latency: 5s
  script:
    - reply: "finally"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: dawdler}
spec:
  model: scripted:demo
  latency: 1s
  script:
    - reply: {summary: "late"}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: desk}
spec:
  protocol: pipeline
  roles:
    - {name: write, agent: sloppy}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: slow-card}
spec:
  target: agent:dawdler
  intents:
    - name: slow.think
      version: 1.0.0
      timeout: 200ms
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: text-v1}
spec:
  target: agent:summarizer
  intents:
    - name: text.summarize
      version: 1.2.0
      input:
        type: object
        required: [topic]
        properties: {topic: {type: string}}
      output:
        type: object
        required: [summary]
        properties: {summary: {type: string}}
      prompt: "v1: summarize ${{ input.topic }}"
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: rambling}
spec:
  target: agent:rambler
  intents:
    - name: text.ramble
      version: 1.0.0
      output:
        type: object
        required: [summary]
        properties: {summary: {type: string}}
"""


def workflow(write: Callable[[str, str], Path], spec: str, name: str = "wf") -> Path:
    """Write m/<name>.yaml: one Workflow manifest with the given (dedented) spec body."""
    body = "\n".join("  " + line for line in textwrap.dedent(spec).strip("\n").splitlines())
    return write(
        f"m/{name}.yaml",
        f"apiVersion: agentgo/v1\nkind: Workflow\nmetadata: {{name: {name}}}\nspec:\n{body}\n",
    )


def seed_job(
    workflow_name: str,
    inputs: dict[str, Any],
    *,
    status: str,
    lease_owner: str | None = None,
    lease_seconds: float = 30.0,
    finished: dict[str, Any] | None = None,
    principal: str | None = None,
    scopes: list[str] | None = None,
) -> str:
    """Create a job straight in the project's store (as a process that died would leave it,
    or as written for ``principal`` with ``scopes``), with `finished` step outputs (by step
    key, in the order given) already recorded; return its id. Run from the project folder.
    """
    from agentgo_cli.backend.local import LocalBackend
    from agentgo_cli.store import open_store

    url, _ = LocalBackend().store_url()
    manifests = [str(Path("m").resolve())]

    async def seed() -> str:
        store = open_store(url)
        await store.start()
        try:
            job = await store.create_job(
                workflow_name,
                inputs,
                manifests,
                status=status,
                lease_owner=lease_owner,
                lease_seconds=lease_seconds,
                principal=principal,
                scopes=scopes,
            )
            for key, output in (finished or {}).items():
                step_id = key.rsplit(".", 1)[-1]  # research[1].note -> note
                await store.step_started(job.id, key, step_id, "tool", 1)
                await store.step_finished(job.id, key, "succeeded", output=output)
            return job.id
        finally:
            await store.close()

    return asyncio.run(seed())


def weird(kind: str) -> Any:
    """Return a value that plain JSON cannot hold (NaN, infinity, deep nesting, an object)."""
    if kind == "nan":
        return {"value": float("nan")}
    if kind == "infinity":
        return [float("inf")]
    if kind == "deep":
        value: Any = []
        for _ in range(100_000):
            value = [value]
        return value
    return {"when": object()}
