"""Streaming agent replies: the agent loop reports each piece of a reply as it streams
(ReplyDelta) when the run streams, and makes the same turn as without; otherwise it calls
complete() as before."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import RunRequest
from agentgo_cli.engine.agent import run_agent
from agentgo_cli.llm import Message, ModelResponse, ScriptedClient, ToolDef, Usage
from agentgo_cli.llm.base import StreamEvent, TextDelta
from agentgo_cli.observer import Event, ModelTurn, Redactor, ReplyDelta
from agentgo_cli.tools import ToolContext, ToolRegistry
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow
from tests.engine.test_agent_loop import TOOLS, agent, manifests

Write = Callable[[str, str], Path]
CTX = ToolContext(job_id="job-1", step_id="ask", attempt=1, idempotency_key="job-1:ask")

CHATTY = """
  model: scripted:demo
  tools: [wordcount]
  script:
    - tool: {name: wordcount, args: {text: "${{ input }}"}}
    - reply: "The text has  ${{ input }} words,\\n as counted.  "
  usage: {input_tokens: 4, output_tokens: 2}
"""


class Events:
    """An observer that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class Counting:
    """A client that completes and streams, counting which it was asked to do."""

    def __init__(self, inner: ScriptedClient) -> None:
        self.inner = inner
        self.completes = 0
        self.streams = 0

    def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> Any:
        self.completes += 1
        return self.inner.complete(messages, tools=tools, params=params)

    def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        self.streams += 1
        return self.inner.stream(messages, tools=tools, params=params)


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    from agentgo_cli.manifests.models import ToolManifest

    return ToolRegistry({m.name: m for m in manifests(TOOLS) if isinstance(m, ToolManifest)})


def _turn_fields(turn: ModelTurn) -> dict[str, Any]:
    data = dataclasses.asdict(turn)
    del data["time"], data["latency_s"]
    return data


async def test_a_streamed_turn_reports_its_pieces_and_makes_the_same_turn(
    registry: ToolRegistry,
) -> None:
    helper = agent(CHATTY)
    runs: dict[bool, tuple[Events, Counting, Any]] = {}
    for stream in (False, True):
        events = Events()
        client = Counting(ScriptedClient(helper.spec, "demo"))
        result = await run_agent(
            helper,
            prompt=None,
            input="one two three",
            tools=registry,
            ctx=CTX,
            client=client,
            observer=events,
            stream=stream,
        )
        runs[stream] = (events, client, result)
    (plain, plain_client, plain_result), (streamed, client, result) = runs[False], runs[True]
    assert result == plain_result
    assert (plain_client.completes, plain_client.streams) == (2, 0)
    assert (client.completes, client.streams) == (0, 2)
    assert plain.of(ReplyDelta) == []
    deltas = streamed.of(ReplyDelta)
    assert len(deltas) > 3
    assert {(d.job_id, d.key) for d in deltas} == {("job-1", "ask")}
    assert "".join(d.text for d in deltas) == result.text
    assert result.text == 'The text has  {"words": 3} words,\n as counted.  '
    # The same turns are reported, deltas before the turn they belong to.
    turns = [_turn_fields(t) for t in streamed.of(ModelTurn)]
    assert turns == [_turn_fields(t) for t in plain.of(ModelTurn)]
    assert isinstance(streamed.events[-1], ModelTurn)


async def test_without_an_observer_or_a_stream_flag_the_client_completes(
    registry: ToolRegistry,
) -> None:
    helper = agent(CHATTY)
    for observer, stream in ((None, True), (Events(), False)):
        client = Counting(ScriptedClient(helper.spec, "demo"))
        await run_agent(
            helper,
            prompt=None,
            input="x",
            tools=registry,
            ctx=CTX,
            client=client,
            observer=observer,
            stream=stream,
        )
        assert (client.completes, client.streams) == (2, 0)


class Pieces:
    """A streaming client that answers one text in the given pieces."""

    def __init__(self, *pieces: str) -> None:
        self.pieces = pieces

    def complete(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a streaming run must not call complete()")

    async def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        for piece in self.pieces:
            yield TextDelta(piece)
        text = "".join(self.pieces)
        yield ModelResponse(Message("assistant", text), Usage(1, 1), "stop", "fake")


async def test_a_secret_split_across_pieces_is_masked_whole(
    registry: ToolRegistry,
) -> None:
    events = Events()
    result = await run_agent(
        agent("  model: scripted:demo\n"),
        prompt=None,
        input="x",
        tools=registry,
        ctx=CTX,
        client=Pieces("the key is sk-li", "ve-123456", " and", " more\nlines"),
        observer=events,
        redactor=Redactor(["sk-live-123456"]),
        stream=True,
    )
    assert result.text == "the key is sk-live-123456 and more\nlines"
    shown = [d.text for d in events.of(ReplyDelta)]
    assert "".join(shown) == "the key is *** and more\nlines"
    assert not any("sk-li" in s or "ve-123" in s for s in shown)


async def test_a_stream_without_a_response_is_a_provider_error(
    registry: ToolRegistry,
) -> None:
    from agentgo_cli.errors import ProviderError

    class Cut(Pieces):
        async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[StreamEvent]:
            yield TextDelta("half")

    with pytest.raises(ProviderError, match="stream ended without a response"):
        await run_agent(
            agent("  model: scripted:demo\n"),
            prompt=None,
            input="x",
            tools=registry,
            ctx=CTX,
            client=Cut(),
            observer=Events(),
            stream=True,
        )


# -- through the backend ---------------------------------------------------------------------

SLOW = """
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: teller}
spec:
  model: scripted:demo
  latency: 50ms
  script:
    - reply: "Once upon a time, ${{ input }} lived happily."
"""


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON + SLOW)
    workflow(
        write,
        """
        steps:
          - id: each
            foreach: [ada, bob]
            steps:
              - id: tell
                agent: teller
                prompt: ${{ item }}
        outputs:
          tales: ${{ steps.each.output }}
        """,
    )
    return write


@pytest.mark.parametrize("stream", [True, False])
async def test_a_run_streams_only_when_asked(project: Write, stream: bool) -> None:
    events = Events()
    async with LocalBackend(observer=events) as backend:
        job = await backend.submit(RunRequest(workflow="wf", stream=stream))
        watched = [e async for e in backend.watch(job.job_id)]
        done = await backend.wait(job.job_id)
    assert done.status == "succeeded"
    tales = ["Once upon a time, ada lived happily.", "Once upon a time, bob lived happily."]
    assert done.outputs == {"tales": tales}
    deltas = events.of(ReplyDelta)
    shown = [e for e in watched if e.kind == "delta"]
    if not stream:
        assert deltas == [] and shown == []
        return
    for index, tale in enumerate(tales):
        key = f"each[{index}].tell"
        assert "".join(d.text for d in deltas if d.key == key) == tale
        assert "".join(e.message for e in shown if e.data == {"key": key}) == tale
    assert {d.job_id for d in deltas} == {job.job_id}
    assert len(shown) == len(deltas)
