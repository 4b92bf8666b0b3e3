"""The trace tree of real runs through the LocalBackend: steps, attempts, turns, tool calls
with their tracebacks, foreach items, calls between agents with their callee's nodes, and a
resumed job's two attempts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.trace_tree import SEGMENT_KINDS, parse_path
from agentgo_cli.backend.views import ResumeRequest, RunRequest, TraceNode, TraceRequest
from agentgo_cli.errors import NotFoundError, UsageError
from tests.a2a.test_lifecycle import CHAIN_AGENTS
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow

FULL = CONFIG.replace("manifests: [./m]", "manifests: [./m], trace: full")
"""The profile that records turns, tool calls and calls (the default, steps, does not)."""

Write = Callable[[str, str], Path]

FUMBLER = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: fumbler}
spec:
  model: scripted:demo
  tools: [boom, echo]
  script:
    - tool: {name: boom, args: {reason: "first try"}}
    - tool: {name: echo, args: {text: "second try"}}
    - reply: "recovered"
  usage: {input_tokens: 10, output_tokens: 5}
---"""

AGENTS = FUMBLER + CHAIN_AGENTS
"""fumbler (a tool fails, then it recovers) and alpha > beta > gamma through call_agent."""

WORK = """
steps:
  - id: fix
    agent: fumbler
    prompt: "go"
  - id: shaky
    tool: flaky
    with: {label: s}
    retry: {max_attempts: 3, backoff: fixed, initial: 1ms}
  - id: each
    foreach: [a, b]
    steps:
      - id: note
        tool: echo
        with: {text: "${{ item }}"}
"""

CHAIN = """
steps:
  - id: go
    agent: alpha
    prompt: "start"
"""

CALLED = """
steps:
  - id: ask
    call: beta.work
    input: {text: "a call step"}
"""

SLOW = """
steps:
  - id: first
    tool: echo
    with: {text: "one"}
  - id: slow
    tool: nap
    with: {seconds: 0.4}
"""


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", FULL)
    write("m/common.yaml", COMMON)
    write("m/agents.yaml", AGENTS)
    workflow(write, WORK, name="work")
    workflow(write, CHAIN, name="chain")
    workflow(write, SLOW, name="slow")
    workflow(write, CALLED, name="called")
    return write


async def _trace(workflow_name: str, step: str | None = None) -> tuple[str, TraceNode]:
    async with LocalBackend() as backend:
        job = await backend.run(RunRequest(workflow=workflow_name))
        return job.job_id, await backend.trace(TraceRequest(job_id=job.job_id, step=step))


def _shape(node: TraceNode) -> Any:
    """(kind, name, status) of a node and, below it, of every child."""
    head = (node.kind, node.name, node.status)
    return [head, [_shape(c) for c in node.children]] if node.children else head


async def test_the_tree_has_steps_attempts_turns_tools_and_foreach_items(project: Write) -> None:
    job_id, root = await _trace("work")

    assert (root.kind, root.name, root.status, root.detail["job_id"]) == (
        "job",
        "work",
        "succeeded",
        job_id,
    )
    fix, shaky, each = root.children
    assert _shape(fix) == [
        ("step", "fix", "succeeded"),
        [
            [
                ("attempt", "attempt 1", "succeeded"),
                [
                    ("turn", "scripted:demo", "ok"),
                    ("tool", "boom", "failed"),
                    ("turn", "scripted:demo", "ok"),
                    ("tool", "echo", "ok"),
                    ("turn", "scripted:demo", "ok"),
                ],
            ]
        ],
    ]
    assert (fix.tokens, fix.children[0].tokens) == (45, 45)
    turn, boom = fix.children[0].children[:2]
    assert turn.path == "fix/attempt:1/turn:1"
    assert turn.detail["messages"] == [{"role": "user", "content": "go"}]
    assert turn.detail["tool_calls"][0]["name"] == "boom"
    assert (turn.tokens, turn.duration_s is not None) == (15, True)
    assert boom.path == "fix/attempt:1/tool:1"
    assert boom.detail["arguments"] == {"reason": "first try"}
    assert boom.detail["error"] == "tool 'boom' raised ValueError: first try"
    assert "Traceback" in boom.detail["traceback"]
    assert boom.detail["traceback"].rstrip().endswith("ValueError: first try")

    assert _shape(shaky) == [
        ("step", "shaky", "succeeded"),
        [
            [("attempt", "attempt 1", "failed"), [("tool", "flaky", "failed")]],
            [("attempt", "attempt 2", "failed"), [("tool", "flaky", "failed")]],
            [("attempt", "attempt 3", "succeeded"), [("tool", "flaky", "ok")]],
        ],
    ]
    assert shaky.children[0].detail["error"] == (
        "tool 'flaky' raised RuntimeError: flaky s attempt 1"
    )
    assert [a.path for a in shaky.children] == [f"shaky/attempt:{n}" for n in (1, 2, 3)]

    assert [c.name for c in each.children if c.kind == "step"] == ["each[0].note", "each[1].note"]
    item = each.children[-1]
    assert item.detail["output"] == {"text": "b", "words": 1}
    assert item.children[0].children[0].detail["arguments"] == {"text": "b"}


async def test_a_node_is_found_by_its_path_with_or_without_its_attempt(project: Write) -> None:
    async with LocalBackend() as backend:
        job = await backend.run(RunRequest(workflow="work"))

        async def at(path: str) -> TraceNode:
            return await backend.trace(TraceRequest(job_id=job.job_id, step=path))

        assert (await at("fix/tool:1")).path == "fix/attempt:1/tool:1"
        assert (await at("fix/attempt:1/tool:2")).name == "echo"
        assert (await at("shaky/attempt:2")).status == "failed"
        assert (await at("shaky/tool:1")).path == "shaky/attempt:3/tool:1"  # the last attempt
        assert (await at("each[1].note")).detail["output"] == {"text": "b", "words": 1}
        with pytest.raises(NotFoundError, match=r"^no step 'nope' in the trace of job j-"):
            await at("nope")
        with pytest.raises(NotFoundError) as missing:
            await at("fix/turn:9")
        assert str(missing.value) == "no turn 9 under 'fix/attempt:1' (it has 3)"
        with pytest.raises(
            NotFoundError, match=r"^no call 1 under 'fix/attempt:1' \(it has none\)"
        ):
            await at("fix/call:1")
        with pytest.raises(UsageError) as bad:
            await at("fix/turn:0")
        assert str(bad.value) == (
            "--step: 'turn:0' in 'fix/turn:0' is not a segment: attempt:N, turn:N, tool:N or call:N"
        )
        with pytest.raises(NotFoundError, match="^no job 'j-nope'$"):
            await backend.trace(TraceRequest(job_id="j-nope"))


async def test_a_call_to_another_agent_has_its_callees_turns_below_it(project: Write) -> None:
    _, root = await _trace("chain")

    (go,) = root.children
    assert _shape(go) == [
        ("step", "go", "succeeded"),
        [
            [
                ("attempt", "attempt 1", "succeeded"),
                [
                    ("turn", "scripted:demo", "ok"),
                    ("tool", "call_agent", "ok"),
                    [
                        ("call", "beta.work@1.0.0", "ok"),
                        [
                            ("turn", "scripted:demo", "ok"),
                            ("tool", "call_agent", "ok"),
                            [
                                ("call", "gamma.run@1.0.0", "ok"),
                                [("turn", "scripted:demo", "ok")],
                            ],
                            ("turn", "scripted:demo", "ok"),
                        ],
                    ],
                    ("turn", "scripted:demo", "ok"),
                ],
            ]
        ],
    ]
    beta = go.children[0].children[2]
    assert beta.path == "go/attempt:1/call:1"
    assert beta.tokens == 45  # beta's two turns and gamma's one
    assert beta.detail["chain"][1:] == ["agent:alpha", "agent:beta"]
    assert beta.children[0].detail["messages"] == [{"role": "user", "content": "Work on start"}]
    gamma = beta.children[2]
    assert gamma.detail["parent_span"] == beta.detail["span"]
    assert gamma.children[0].detail["reply"] == "gamma done"
    assert go.tokens == 75


async def test_a_call_step_has_its_call_and_the_callees_nodes_below_it(project: Write) -> None:
    _, root = await _trace("called")

    (ask,) = root.children
    assert _shape(ask) == [
        ("step", "ask", "succeeded"),
        [
            [
                ("attempt", "attempt 1", "succeeded"),
                [
                    [
                        ("call", "beta.work@1.0.0", "ok"),
                        [
                            ("turn", "scripted:demo", "ok"),
                            ("tool", "call_agent", "ok"),
                            [
                                ("call", "gamma.run@1.0.0", "ok"),
                                [("turn", "scripted:demo", "ok")],
                            ],
                            ("turn", "scripted:demo", "ok"),
                        ],
                    ]
                ],
            ]
        ],
    ]
    call = ask.children[0].children[0]
    assert call.children[0].detail["messages"][-1]["content"] == "Work on a call step"


async def test_a_resumed_job_shows_the_interrupted_attempt_and_the_one_that_finished(
    project: Write,
) -> None:
    async with LocalBackend() as backend:
        job = await backend.submit(RunRequest(workflow="slow"))
        await asyncio.sleep(0.2)  # 'slow' naps: the process "dies" during it
    async with LocalBackend() as backend:
        resumed = await backend.resume(ResumeRequest(job_id=job.job_id, force=True))
        assert (await backend.wait(resumed.job_id)).status == "succeeded"
        root = await backend.trace(TraceRequest(job_id=job.job_id))

    first, slow = root.children
    assert _shape(first) == [
        ("step", "first", "succeeded"),
        [[("attempt", "attempt 1", "succeeded"), [("tool", "echo", "ok")]]],
    ]
    assert _shape(slow) == [
        ("step", "slow", "succeeded"),
        [
            ("attempt", "attempt 1", "interrupted"),
            [("attempt", "attempt 2", "succeeded"), [("tool", "nap", "ok")]],
        ],
    ]
    assert slow.children[1].detail == {"attempt": 1, "resumed": True}  # the engine's count
    assert slow.children[0].started_at is not None and slow.children[0].duration_s is None


_KEYS = st.from_regex(  # research[0].summarize, polish#2.review, checks.count, desk#2.billing
    r"[a-z_][a-z0-9_]{0,8}((\[[0-9]{1,3}\]|#[0-9]{1,3})?\.[a-z_][a-z0-9_]{0,8}){0,3}",
    fullmatch=True,
)
_SEGMENTS = st.lists(
    st.tuples(st.sampled_from(SEGMENT_KINDS), st.integers(min_value=1, max_value=999)), max_size=4
)


@given(_KEYS, _SEGMENTS)
def test_a_path_the_tree_gives_parses_back(key: str, segments: list[tuple[str, int]]) -> None:
    path = "/".join([key, *(f"{kind}:{n}" for kind, n in segments)])
    assert parse_path(path) == (key, segments)


@given(st.text(max_size=40))
def test_garbage_is_a_usage_error_or_a_path(text: str) -> None:
    try:
        key, segments = parse_path(text)
    except UsageError as exc:
        assert str(exc).startswith("--step: ")
        assert "\n" not in str(exc)
    else:
        assert key and all(kind in SEGMENT_KINDS and n >= 1 for kind, n in segments)
