"""The trace recorder: what a job's run leaves in the store's trace table, redacted and cut."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.engine.trace import PAYLOAD_LIMIT, TraceRecorder, cap, cap_text
from agentgo_cli.manifests.manifest_set import load_set
from agentgo_cli.observer import ToolCalled
from agentgo_cli.store.base import JobStatus, TraceRecord
from tests.conftest import StoreDB
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow

Write = Callable[[str, str], Path]

SECRET = "sk-trace-test-0123456789"

AGENTS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: caller}
spec:
  model: scripted:demo
  tools: [echo]
  script:
    - tool: {name: echo, args: {text: "${{ input }}"}}
    - reply: "done with ${{ input }}"
  usage: {input_tokens: 7, output_tokens: 3}
"""

STEPS = """
steps:
  - id: ask
    agent: caller
    input: "${{ inputs.topic }}"
  - id: said
    tool: echo
    with: {text: "${{ inputs.topic }}"}
inputs:
  topic: {type: string}
"""


@pytest.fixture
async def store(write: Write, workdir: Path, store_db: StoreDB) -> AsyncIterator[Any]:
    engine_tools.reset()
    write("m/common.yaml", COMMON)
    write("m/agents.yaml", AGENTS)
    workflow(write, STEPS)
    async with store_db.running() as store:
        yield store


async def _run(store: Any, workdir: Path, topic: str, **kwargs: Any) -> list[TraceRecord]:
    mset = load_set([workdir / "m"])
    assert mset.valid, mset.sorted_errors()
    engine = Engine(store, mset, **{"trace": "full", **kwargs})
    job = await engine.run(await engine.submit("wf", {"topic": topic}, ["m"], run_here=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    records: list[TraceRecord] = await store.trace(job.id)
    return records


async def test_a_run_records_its_turns_and_tool_calls_in_order(store: Any, workdir: Path) -> None:
    records = await _run(store, workdir, "tides")

    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert [(r.kind, r.key, r.name, r.status) for r in records] == [
        ("turn", "ask", "scripted:demo", "ok"),
        ("tool", "ask", "echo", "ok"),
        ("turn", "ask", "scripted:demo", "ok"),
        ("tool", "said", "echo", "ok"),
    ]  # a step's last attempt is its step record: not written twice
    first_turn, tool = records[0], records[1]
    assert first_turn.tokens == 10
    assert first_turn.data["messages"] == [{"role": "user", "content": "tides"}]
    assert first_turn.data["tool_calls"][0]["arguments"] == {"text": "tides"}
    assert tool.data == {"arguments": {"text": "tides"}, "result": {"text": "tides", "words": 1}}


async def test_a_secret_is_masked_in_messages_replies_and_tool_arguments(
    store: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    records = await _run(store, workdir, f"key {SECRET}")

    stored = json.dumps([r.data for r in records])
    assert SECRET not in stored
    turns = [r for r in records if r.kind == "turn"]
    assert turns[0].data["messages"] == [{"role": "user", "content": "key ***"}]
    assert turns[0].data["tool_calls"][0]["arguments"] == {"text": "key ***"}
    assert turns[1].data["reply"] == 'done with {"text": "key ***", "words": 2}'
    tools = [r.data for r in records if r.kind == "tool"]
    assert tools[0] == {"arguments": {"text": "key ***"}, "result": {"text": "key ***", "words": 2}}


async def test_a_payload_over_the_limit_is_cut_and_says_so(store: Any, workdir: Path) -> None:
    topic = "word " * 200  # 1,000 characters
    records = await _run(store, workdir, topic, trace_limit=300)

    (said,) = [r for r in records if r.kind == "tool" and r.key == "said"]
    arguments = said.data["arguments"]
    full = json.dumps({"text": topic})
    assert arguments["truncated"] is True
    assert arguments["bytes"] == len(full.encode())
    assert full.startswith(arguments["kept"]) and len(arguments["kept"].encode()) == 300
    reply = [r for r in records if r.kind == "turn"][-1].data["reply"]
    answer = "done with " + json.dumps({"text": topic, "words": 200})  # the tool's result
    assert reply == answer[:300] + f"… [cut {len(answer) - 300} bytes]"


async def test_the_steps_level_records_no_turn_and_off_records_nothing(
    store: Any, workdir: Path
) -> None:
    steps = await _run(store, workdir, "tides", trace="steps")
    off = await _run(store, workdir, "tides", trace="off")

    assert steps == []  # each step ran once: its step record says it all
    assert off == []


async def test_a_retried_attempt_is_recorded_failed_with_its_error(
    store: Any, workdir: Path, write: Write
) -> None:
    spec = "steps:\n  - id: shaky\n    tool: flaky\n    with: {label: s}\n"
    spec += "    retry: {max_attempts: 3, backoff: fixed, initial: 1ms}\n"
    workflow(write, spec, name="shaky")
    engine = Engine(store, load_set([workdir / "m"]), trace="full")
    job = await engine.run(await engine.submit("shaky", {}, ["m"], run_here=True))

    records = await store.trace(job.id)
    assert [(r.kind, r.attempt, r.status) for r in records] == [
        ("tool", None, "failed"),
        ("retry", 1, "failed"),
        ("tool", None, "failed"),
        ("retry", 2, "failed"),
        ("tool", None, "ok"),
    ]
    retry = records[1]
    assert retry.seconds is not None and retry.seconds >= 0
    assert retry.data == {"error": "tool 'flaky' raised RuntimeError: flaky s attempt 1"}
    failed = [r for r in records if r.kind == "tool" and r.status == "failed"]
    assert len(failed) == 2
    assert "Traceback" in failed[0].data["traceback"]
    assert failed[0].data["traceback"].rstrip().endswith("RuntimeError: flaky s attempt 1")


async def test_emit_never_raises_and_ignores_jobs_not_running_here(
    store: Any, workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class _Run:  # what the recorder reads of a run: its job's id and its lease
        job = type("J", (), {"id": "j-1"})()
        lease = None

    recorder = TraceRecorder(store, {"j-1": _Run()})  # type: ignore[dict-item]
    await store.close()
    recorder.emit(ToolCalled("j-1", "a", "echo", {}))  # the store is closed: dropped, logged
    recorder.emit(ToolCalled("j-1", "a", "echo", {}))  # logged once
    recorder.emit(ToolCalled("j-2", "a", "echo", {}))  # not a job of ours: not recorded
    recorder.emit(ToolCalled(None, None, "echo", {}))  # no job at all (agentgo call)

    assert [r.getMessage() for r in caplog.records] == ["job j-1: a trace record was dropped"]


def test_a_text_under_the_limit_is_kept_as_it_is() -> None:
    assert cap_text("héllo", 6) == "héllo"
    assert cap("héllo", 8) == '"héllo"'
    assert cap({"a": [1, 2]}) == '{"a": [1, 2]}'


def test_a_cut_never_splits_a_character() -> None:
    assert cap_text("ééé", 3) == "é… [cut 4 bytes]"


def test_a_value_that_is_not_json_becomes_a_note() -> None:
    (note,) = json.loads(cap({"x": float("nan")})).items()
    assert note[0] == "unstorable" and "not JSON compliant" in note[1]  # json's own words


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
)


@given(_JSON, st.integers(min_value=1, max_value=PAYLOAD_LIMIT))
def test_a_capped_payload_is_json_within_the_limit_or_marked(value: Any, limit: int) -> None:
    text = cap(value, limit)
    decoded = json.loads(text)
    if isinstance(value, str):
        assert isinstance(decoded, str)
        assert decoded == value or " [cut " in decoded
    elif decoded != value:
        assert decoded["truncated"] is True
        assert len(decoded["kept"].encode()) <= limit < decoded["bytes"]
