"""A streaming agent step end to end: the OpenAI SDK against a local server speaking its
wire format, behind the reliability layer and the engine, with the run streaming.

The pieces of the reply reach the observer as they come (ReplyDelta), the job's result and
cost are those of a non-streaming run, and the provider's stream watchdog (stream_idle)
still applies: silence before the first words is retried, after them the step fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import JobView, RunRequest
from agentgo_cli.observer import Event, ModelTurn, ReplyDelta
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow
from tests.llm.conftest import FAKE_KEY
from tests.llm.wire_servers import OPENAI, Reply, Stream, WireServer

Write = Callable[[str, str], Path]
MODEL = f"openai:{OPENAI.model}"
PIECES = ["The answer", " is forty", "-two, as", " computed."]


class Events:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
def server(
    write: Write, monkeypatch: pytest.MonkeyPatch, wire_server: Callable[..., WireServer]
) -> WireServer:
    engine_tools.reset()
    monkeypatch.setenv("TEST_API_KEY", FAKE_KEY)
    wire = wire_server(OPENAI)
    write(
        "agentgo.yaml",
        "profile: p\nprofiles:\n  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}\n"
        f"providers:\n  openai: {{api_key: '${{env:TEST_API_KEY}}', base_url: "
        f"'{wire.base_url}', max_retries: 1, timeout: 3, stream_idle: 300ms}}\n",
    )
    write("m/common.yaml", COMMON)
    write(
        "m/agent.yaml",
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: oracle}\n"
        f"spec:\n  model: {MODEL}\n",
    )
    workflow(
        write,
        """
        steps:
          - id: ask
            agent: oracle
            prompt: "What is the answer?"
        outputs:
          answer: ${{ steps.ask.output }}
        """,
    )
    return wire


async def _run(stream: bool) -> tuple[JobView, Events]:
    events = Events()
    async with LocalBackend(observer=events) as backend:
        job = await backend.run(RunRequest(workflow="wf", stream=stream))
    return job, events


async def test_the_sdks_stream_reaches_the_observer_piece_by_piece(server: WireServer) -> None:
    server.queue(
        Stream(OPENAI.text_stream(PIECES, input_tokens=12, output_tokens=7, delay=0.02)),
        Reply(OPENAI.text("".join(PIECES), input_tokens=12, output_tokens=7)),
    )
    streamed, events = await _run(stream=True)
    plain, plain_events = await _run(stream=False)
    answer = "".join(PIECES)
    assert streamed.outputs == plain.outputs == {"answer": answer}
    assert streamed.tokens == plain.tokens == 19
    assert streamed.cost_usd == plain.cost_usd
    deltas = [e for e in events.events if isinstance(e, ReplyDelta)]
    # Held back to whitespace (the config has a key to mask), so no piece ends mid-word.
    assert "".join(d.text for d in deltas) == answer
    assert [d.text for d in deltas] == ["The ", "answer is ", "forty-two, ", "as ", "computed."]
    assert {(d.job_id, d.key) for d in deltas} == {(streamed.job_id, "ask")}
    assert not any(isinstance(e, ReplyDelta) for e in plain_events.events)
    (turn,) = [e for e in events.events if isinstance(e, ModelTurn)]
    (plain_turn,) = [e for e in plain_events.events if isinstance(e, ModelTurn)]
    assert (turn.ref, turn.reply, turn.input_tokens, turn.output_tokens, turn.cost_usd) == (
        plain_turn.ref,
        plain_turn.reply,
        plain_turn.input_tokens,
        plain_turn.output_tokens,
        plain_turn.cost_usd,
    )
    # The first run asked the server for a stream, the second for one whole answer.
    assert [r.body.get("stream") is True for r in server.requests] == [True, False]
    assert FAKE_KEY not in repr(events.events)


async def test_silence_before_the_first_words_is_retried_per_stream_idle(
    server: WireServer,
) -> None:
    server.queue(Stream([], stall=5.0), Stream(OPENAI.text_stream(PIECES)))
    job, events = await _run(stream=True)
    assert (job.status, job.outputs) == ("succeeded", {"answer": "".join(PIECES)})
    assert len(server.requests) == 2
    assert (
        "".join(e.text for e in events.events if isinstance(e, ReplyDelta)) == job.outputs["answer"]
    )


async def test_silence_after_the_first_words_fails_the_step(server: WireServer) -> None:
    events = OPENAI.text_stream(PIECES)
    server.queue(Stream(events[:3], stall=5.0))  # the role chunk and two pieces, then nothing
    job, seen = await _run(stream=True)
    assert job.status == "failed"
    assert job.error == "step 'ask' failed: openai:gpt-test: stream stalled, after the answer began"
    assert len(server.requests) == 1  # text already shown is never asked for again
    shown = "".join(e.text for e in seen.events if isinstance(e, ReplyDelta))
    assert shown == "The answer is "  # "forty" was held back to the next whitespace
