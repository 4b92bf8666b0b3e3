"""What the engine, the tool registry and the call service report to an observer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.a2a.lifecycle import CallContext, Spend
from agentgo_cli.a2a.trace import TraceContext
from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.errors import CallError
from agentgo_cli.manifests.manifest_set import load_set
from agentgo_cli.manifests.models.workflow import STEP_KINDS, StepBase
from agentgo_cli.observer import (
    AgentCalled,
    Event,
    JobEnded,
    LogLine,
    ModelTurn,
    Redactor,
    StepFinished,
    StepStarted,
    ToolCalled,
)
from agentgo_cli.store.base import JobStatus, StepStatus
from tests.conftest import StoreDB
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow

Write = Callable[[str, str], Path]

SECRET = "sk-observer-test-0123456789"

CARD = """
apiVersion: agentgo/v1
kind: Capability
metadata: {name: guarded}
spec:
  target: agent:summarizer
  intents:
    - name: guarded.summarize
      version: 2.1.0
      input: {type: string}
      acl:
        allow:
          - principal: "user:*"
        deny:
          - principal: "user:mallory"
"""

STEPS = """
steps:
  - id: draft
    agent: writer
    input: "${{ inputs.topic }}"
  - id: said
    tool: echo
    with: {text: "${{ inputs.topic }}"}
  - id: never
    if: "${{ false }}"
    tool: echo
    with: {text: "x"}
  - id: broken
    tool: boom
    with: {reason: "no luck"}
    continue_on_error: true
  - id: each
    foreach: [1, 2]
    steps:
      - id: inner
        tool: echo
        with: {text: "item ${{ item }}"}
inputs:
  topic: {type: string}
outputs:
  draft: "${{ steps.draft.output }}"
"""


class Recorder:
    """An observer that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
async def store(write: Write, workdir: Path, store_db: StoreDB) -> AsyncIterator[Any]:
    engine_tools.reset()
    write("m/common.yaml", COMMON)
    write("m/card.yaml", CARD)
    workflow(write, STEPS)
    async with store_db.running() as store:
        yield store


def _engine(store: Any, workdir: Path, recorder: Recorder, **kwargs: Any) -> Engine:
    mset = load_set([workdir / "m"])
    assert mset.valid, mset.sorted_errors()
    return Engine(store, mset, observer=recorder, **kwargs)


async def _run(engine: Engine, topic: str = "tides") -> Any:
    job = await engine.submit("wf", {"topic": topic}, ["m"], run_here=True)
    return await engine.run(job)


async def test_every_step_starts_and_finishes_and_the_job_ends(store: Any, workdir: Path) -> None:
    recorder = Recorder()
    final = await _run(_engine(store, workdir, recorder))

    assert final.status == JobStatus.SUCCEEDED
    started = [(e.key, e.kind, e.attempt) for e in recorder.of(StepStarted)]
    assert sorted(started) == sorted(
        [
            ("draft", "agent", 1),
            ("said", "tool", 1),
            ("never", "tool", 1),
            ("broken", "tool", 1),
            ("each", "foreach", 1),
            ("each[0].inner", "tool", 1),
            ("each[1].inner", "tool", 1),
        ]
    )
    finished = {e.key: e for e in recorder.of(StepFinished)}
    assert {k: e.status for k, e in finished.items()} == {
        "draft": StepStatus.SUCCEEDED,
        "said": StepStatus.SUCCEEDED,
        "never": StepStatus.SKIPPED,
        "broken": StepStatus.FAILED,
        "each": StepStatus.SUCCEEDED,
        "each[0].inner": StepStatus.SUCCEEDED,
        "each[1].inner": StepStatus.SUCCEEDED,
    }
    assert finished["draft"].tokens == 15
    assert finished["broken"].error == "tool 'boom' raised ValueError: no luck"
    assert all(e.job_id == final.id and e.seconds >= 0 for e in finished.values())
    assert [(e.job_id, e.status, e.error) for e in recorder.of(JobEnded)] == [
        (final.id, JobStatus.SUCCEEDED, None)
    ]
    assert isinstance(recorder.events[-1], JobEnded)
    lines = [(e.kind, e.message) for e in recorder.of(LogLine)]
    assert ("step", "broken failed: tool 'boom' raised ValueError: no luck") in lines
    assert lines[-1] == ("job", "succeeded")
    # The log lines reported are the ones the store has.
    stored = [(r.kind, r.message) for r in await store.events(final.id)]
    assert stored == lines


async def test_an_agent_step_reports_its_model_turn(store: Any, workdir: Path) -> None:
    recorder = Recorder()
    final = await _run(_engine(store, workdir, recorder))

    (turn,) = recorder.of(ModelTurn)
    assert (turn.job_id, turn.key, turn.ref) == (final.id, "draft", "scripted:demo")
    assert (turn.input_tokens, turn.output_tokens) == (10, 5)
    assert turn.reply == "draft about tides"
    assert turn.messages[-1] == {"role": "user", "content": "tides"}
    assert turn.tool_calls == []
    assert turn.latency_s >= 0


async def test_a_failing_python_tool_reports_its_error_and_traceback(
    store: Any, workdir: Path
) -> None:
    recorder = Recorder()
    final = await _run(_engine(store, workdir, recorder))

    (failed,) = [e for e in recorder.of(ToolCalled) if e.tool == "boom"]
    assert (failed.job_id, failed.key) == (final.id, "broken")
    assert failed.arguments == {"reason": "no luck"}
    assert failed.error == "tool 'boom' raised ValueError: no luck"
    assert failed.traceback is not None
    assert "Traceback" in failed.traceback
    assert "in boom" in failed.traceback
    assert failed.traceback.rstrip().endswith("ValueError: no luck")
    ok = [e for e in recorder.of(ToolCalled) if e.tool == "echo" and e.key == "said"]
    assert [(e.result, e.error) for e in ok] == [({"text": "tides", "words": 1}, None)]


async def test_a_provider_key_is_masked_in_tool_calls(
    store: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    recorder = Recorder()
    await _run(_engine(store, workdir, recorder), topic=f"key {SECRET}")

    (said,) = [e for e in recorder.of(ToolCalled) if e.key == "said"]
    assert said.arguments == {"text": "key ***"}
    assert said.result == {"text": "key ***", "words": 2}
    (turn,) = recorder.of(ModelTurn)
    assert SECRET not in repr(turn)
    assert turn.reply == "draft about key ***"


async def test_a_secret_in_an_error_is_masked_in_every_event_that_carries_it(
    store: Any, workdir: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    spec = "steps:\n  - id: leak\n    tool: boom\n    with: {reason: 'key ${{ inputs.k }}'}\n"
    workflow(write, spec + "inputs:\n  k: {type: string}\n", name="leaky")
    recorder = Recorder()
    engine = _engine(store, workdir, recorder)
    job = await engine.run(await engine.submit("leaky", {"k": SECRET}, ["m"], run_here=True))

    assert job.status == JobStatus.FAILED
    (finished,) = [e for e in recorder.of(StepFinished) if e.key == "leak"]
    assert finished.error == "tool 'boom' raised ValueError: key ***"
    (ended,) = recorder.of(JobEnded)
    assert ended.error == "step 'leak' failed: tool 'boom' raised ValueError: key ***"
    lines = [e.message for e in recorder.of(LogLine)]
    assert "leak failed: tool 'boom' raised ValueError: key ***" in lines
    assert SECRET not in repr(recorder.events)


async def test_a_given_redactor_masks_its_secrets(store: Any, workdir: Path) -> None:
    recorder = Recorder()
    engine = _engine(store, workdir, recorder, redactor=Redactor(["tides-secret"]))
    await _run(engine, topic="tides-secret")

    (said,) = [e for e in recorder.of(ToolCalled) if e.key == "said"]
    assert said.arguments == {"text": "***"}


async def test_calls_report_the_decision(store: Any, workdir: Path) -> None:
    recorder = Recorder()
    engine = _engine(store, workdir, recorder)
    trace = TraceContext.start()

    def parent(principal: str) -> CallContext:
        return CallContext(principal, frozenset(), (principal,), trace, Spend())

    outcome = await engine.calls.call("guarded.summarize", "tides", parent=parent("user:alice"))
    with pytest.raises(CallError):
        await engine.calls.call("guarded.summarize@^2", "tides", parent=parent("user:mallory"))

    allowed, denied = recorder.of(AgentCalled)
    assert (allowed.intent, allowed.version, allowed.decision) == (
        "guarded.summarize",
        "2.1.0",
        "ok",
    )
    assert allowed.principal_chain == ["user:alice", "agent:summarizer"]
    assert allowed.trace_id == outcome.trace_id == trace.trace_id
    assert (denied.intent, denied.version, denied.decision) == (
        "guarded.summarize",
        "2.1.0",
        "denied",
    )
    assert denied.principal_chain == ["user:mallory"]
    assert denied.error is not None and "user:mallory may not call it" in denied.error


async def test_a_secret_in_a_refused_call_is_masked_in_its_event(store: Any, workdir: Path) -> None:
    recorder = Recorder()
    engine = _engine(store, workdir, recorder, redactor=Redactor([SECRET]))
    root = CallContext("user:alice", frozenset(), ("user:alice",), TraceContext.start(), Spend())
    with pytest.raises(CallError) as info:
        await engine.calls.call("guarded.summarize", {"key": SECRET}, parent=root)
    assert info.value.code == "invalid_input"
    (refused,) = recorder.of(AgentCalled)
    assert refused.decision == "invalid_input"
    assert refused.error is not None and "***" in refused.error
    assert SECRET not in refused.error


async def test_a_job_refused_before_it_starts_ends_for_the_observer(
    store: Any, workdir: Path
) -> None:
    recorder = Recorder()
    engine = _engine(store, workdir, recorder)
    job = await engine.submit("wf", {"topic": "x"}, ["m"], run_here=True)
    await store.request_cancel(job.id)  # before the run began
    job = await store.get_job(job.id)

    final = await engine.run(job)

    assert final.status == JobStatus.CANCELLED
    assert [(e.status, e.error) for e in recorder.of(JobEnded)] == [
        (JobStatus.CANCELLED, "cancelled on request")
    ]
    assert recorder.of(StepStarted) == []


async def test_no_observer_makes_no_event(store: Any, workdir: Path) -> None:
    mset = load_set([workdir / "m"])
    engine = Engine(store, mset, trace="off")  # else the trace recorder is an observer
    assert engine.observer is None and engine.redactor is None
    final = await _run(engine)
    assert final.status == JobStatus.SUCCEEDED


def test_every_step_kind_has_an_executor() -> None:
    from agentgo_cli.engine.steps import KINDS
    from agentgo_cli.engine.steps.role import RoleTurn

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(c) for c in found))

    # Every step class of the workflow model, and the engine's own role turns (teams').
    assert set(KINDS) == subclasses(StepBase) | {RoleTurn}
    assert sorted(k.name for k in KINDS.values()) == sorted([*STEP_KINDS, "role"])
