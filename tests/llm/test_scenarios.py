"""Providers misbehaving, end to end: each official SDK against a local server that speaks its
wire format, behind the one reliability layer, and whole workflows run by the engine.

Nothing is mocked between the reliability layer and the socket: the servers answer real
HTTP with canned bodies (429s, 500s, stalls, garbage) and record what the SDKs sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import JobsQuery, LogsRequest, RunRequest
from agentgo_cli.errors import ConfigError, ProviderError
from agentgo_cli.llm.base import Message, ModelResponse, TextDelta
from agentgo_cli.llm.cost import CallRecord, PriceTable
from agentgo_cli.llm.reliability import (
    BreakerPolicy,
    Breakers,
    ReliableClient,
    RetryPolicy,
    Route,
    ShadowRecord,
)
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow
from tests.llm.conftest import FAKE_KEY, MakeProvider
from tests.llm.wire_servers import ANTHROPIC, GEMINI, OPENAI, Call, Reply, Stream, WireServer

Write = Callable[[str, str], Path]
ASK = [Message("user", "Say hello.")]


def reliable(*routes: Route, **kwargs: Any) -> ReliableClient:
    kwargs.setdefault("breakers", Breakers())
    return ReliableClient(list(routes), prices=PriceTable(), **kwargs)


def route(
    server: WireServer,
    provider: MakeProvider,
    *,
    attempts: int = 3,
    failures: int = 5,
    idle: float = 30.0,
) -> Route:
    client = provider(server)
    return Route(
        f"{server.dialect.name}:{server.dialect.model}",
        client,
        timeout=2.0,
        stream_idle=idle,
        retry=RetryPolicy(max_attempts=attempts, initial=0.01, max_delay=0.05),
        breaker=BreakerPolicy(failures=failures, reset_after=60.0),
    )


async def ask(client: ReliableClient) -> ModelResponse:
    return await client.complete(list(ASK), tools=[], params={})


# -- the reliability layer over each SDK ----------------------------------------------------


async def test_a_429_with_retry_after_is_waited_out_then_succeeds(
    wire: WireServer, provider: MakeProvider
) -> None:
    wire.queue(wire.dialect.error_reply(429, "slow down", {"retry-after-ms": "300"}))
    calls: list[CallRecord] = []
    client = reliable(route(wire, provider), on_call=calls.append)
    started = time.perf_counter()
    answer = await ask(client)
    assert time.perf_counter() - started >= 0.3  # jitter alone would wait at most 0.01 s
    assert answer.message.content == "Hello!"
    assert len(wire.requests) == 2
    assert [(c.ok, c.attempts) for c in calls] == [(True, 2)]


async def test_repeated_500s_open_the_breaker_and_later_calls_never_leave(
    wire: WireServer, provider: MakeProvider
) -> None:
    for _ in range(5):
        wire.queue(wire.dialect.error_reply(500, "boom"))
    breakers = Breakers()
    client = reliable(route(wire, provider, attempts=2, failures=3), breakers=breakers)
    ref = f"{wire.dialect.name}:{wire.dialect.model}"
    with pytest.raises(ProviderError) as first:
        await ask(client)
    assert first.value.kind == "server"
    assert len(wire.requests) == 2
    with pytest.raises(ProviderError):
        await ask(client)  # its first attempt is the third failure in a row: the circuit opens
    assert len(wire.requests) == 3
    assert breakers.snapshot()[ref]["state"] == "open"
    with pytest.raises(ProviderError) as refused:
        await ask(client)
    assert refused.value.kind == "circuit_open"
    assert "circuit open" in str(refused.value)
    assert len(wire.requests) == 3  # refused before any request


async def test_failover_to_the_second_model_of_the_chain(
    wire_server: Callable[..., WireServer], provider: MakeProvider
) -> None:
    down, up = wire_server(OPENAI), wire_server(ANTHROPIC)
    for _ in range(3):
        down.queue(OPENAI.error_reply(503, "unavailable"))
    up.queue(Reply(ANTHROPIC.text("From the fallback.")))
    calls: list[CallRecord] = []
    client = reliable(route(down, provider), route(up, provider), on_call=calls.append)
    answer = await ask(client)
    assert answer.message.content == "From the fallback."
    assert answer.model == f"anthropic:{ANTHROPIC.model}"
    assert (len(down.requests), len(up.requests)) == (3, 1)
    assert [(c.ok, c.attempts) for c in calls] == [(True, 4)]


async def test_a_shadow_answer_is_recorded_and_never_used(
    wire_server: Callable[..., WireServer], provider: MakeProvider
) -> None:
    main, shadow = wire_server(OPENAI), wire_server(GEMINI)
    main.queue(Reply(OPENAI.text("Main answer.")), Reply(OPENAI.text("Main again.")))
    shadow.queue(Reply(GEMINI.text("Shadow answer.")), GEMINI.error_reply(500, "shadow down"))
    seen: list[ShadowRecord] = []
    calls: list[CallRecord] = []
    client = reliable(
        route(main, provider),
        shadow=route(shadow, provider, attempts=1),
        on_shadow=seen.append,
        on_call=calls.append,
    )
    assert (await ask(client)).message.content == "Main answer."
    await client.drain(2.0)
    assert (await ask(client)).message.content == "Main again."  # a failing shadow: no effect
    await client.drain(2.0)
    assert [(s.shadow_text, s.agrees, s.error is None) for s in seen] == [
        ("Shadow answer.", False, True),
        ("", False, False),
    ]
    assert seen[0].main_text == "Main answer."
    assert [c.shadow for c in calls].count(True) == 2
    assert len(shadow.requests) == 2  # one copy per call, never retried


async def test_a_stalled_stream_is_aborted_by_the_watchdog_then_retried(
    wire: WireServer, provider: MakeProvider
) -> None:
    wire.queue(Stream([], stall=5.0))  # headers, then silence
    client = reliable(route(wire, provider, idle=0.3))
    started = time.perf_counter()
    events = [e async for e in client.stream(list(ASK), tools=[], params={})]
    took = time.perf_counter() - started
    assert 0.3 <= took < 3.0
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == "Hello!"  # the retry's answer
    assert isinstance(events[-1], ModelResponse)
    assert len(wire.requests) == 2


async def test_a_stream_that_stalls_after_its_first_words_fails_without_a_restart(
    wire: WireServer, provider: MakeProvider
) -> None:
    events = list(wire.dialect.text_stream(["Hel", "lo"]))
    first_words = next(i for i, e in enumerate(events) if "Hel" in json.dumps(e.data))
    wire.queue(Stream(events[: first_words + 1], stall=5.0))  # some text, never the end
    client = reliable(route(wire, provider, idle=0.3))
    got: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for event in client.stream(list(ASK), tools=[], params={}):
            if isinstance(event, TextDelta):
                got.append(event.text)
    assert info.value.kind == "stalled"
    assert got  # text had reached the caller, so nothing was retried
    assert len(wire.requests) == 1


async def test_a_malformed_body_is_a_clear_provider_error(
    wire: WireServer, provider: MakeProvider
) -> None:
    wire.queue(Reply('{"choices": [', content_type="application/json"))
    client = reliable(route(wire, provider))
    with pytest.raises(ProviderError) as info:
        await ask(client)
    error = info.value
    assert error.kind == "bad_response"
    message = str(error)
    assert message.startswith(f"{wire.dialect.name}:{wire.dialect.model}: ")
    assert "\n" not in message and "Traceback" not in message
    assert len(wire.requests) == 1  # garbage is not retried


# -- whole workflows through the engine -----------------------------------------------------


def _config(providers: dict[str, WireServer], extra: str = "") -> str:
    """agentgo.yaml with each provider pointed at its server; ``extra`` goes into each
    provider's mapping (e.g. prices)."""
    lines = [
        "profile: p",
        "profiles:",
        "  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}",
        "providers:",
    ]
    for name, server in providers.items():
        lines.append(
            f"  {name}: {{api_key: '${{env:TEST_API_KEY}}', base_url: '{server.base_url}', "
            f"max_retries: 1, timeout: 3{extra}}}"
        )
    return "\n".join(lines) + "\n"


def _agent(name: str, model: str, body: str = "") -> str:
    return (
        f"---\napiVersion: agentgo/v1\nkind: Agent\nmetadata: {{name: {name}}}\nspec:\n"
        f"  model: {model}\n{body}"
    )


@pytest.fixture
def project(write: Write, monkeypatch: pytest.MonkeyPatch) -> Write:
    engine_tools.reset()
    monkeypatch.setenv("TEST_API_KEY", FAKE_KEY)
    write("m/common.yaml", COMMON)
    return write


@pytest.mark.parametrize("dialect", [OPENAI, ANTHROPIC, GEMINI], ids=lambda d: d.name)
async def test_an_agent_with_tools_gives_the_same_result_on_each_wire_format(
    dialect: Any,
    project: Write,
    wire_server: Callable[..., WireServer],
    workdir: Path,
    backend: LocalBackend,
) -> None:
    server = wire_server(dialect)
    server.queue(
        Reply(dialect.tool_call([Call("echo", {"text": "hello big world"}, "call_1")])),
        Reply(dialect.text("The echo tool counted 3 words.", input_tokens=30, output_tokens=8)),
    )
    project("agentgo.yaml", _config({dialect.name: server}))
    model = f"{dialect.name}:{dialect.model}"
    project("m/agents.yaml", _agent("counter", model, "  tools: [echo]\n"))
    workflow(
        project,
        """
        steps:
          - id: count
            agent: counter
            prompt: "Count the words of: hello big world"
        outputs:
          answer: ${{ steps.count.output }}
        """,
    )
    job = await backend.run(RunRequest(workflow="wf"))
    assert (job.status, job.error) == ("succeeded", None)
    assert job.outputs == {"answer": "The echo tool counted 3 words."}
    assert job.tokens == (10 + 5) + (30 + 8)
    # The tool ran, and its result went back to the model in this provider's format.
    assert len(server.requests) == 2
    follow_up = json.dumps(server.requests[1].body)
    assert "hello big world" in follow_up and "words" in follow_up
    detail = await backend.job(job.job_id)
    (step,) = detail.steps
    assert (step.status, step.tokens) == ("succeeded", 53)
    assert step.cost_usd == pytest.approx(PriceTable().cost(model, _usage(53 - 13, 13)))
    # The key went out in the request and nowhere else.
    assert dialect.key_of(server.requests[0].headers) == FAKE_KEY
    for path in (workdir / "state").iterdir():
        assert FAKE_KEY.encode() not in path.read_bytes()


def _usage(input_tokens: int, output_tokens: int) -> Any:
    from agentgo_cli.llm.base import Usage

    return Usage(input_tokens, output_tokens)


async def test_failover_and_shadow_in_a_workflow_are_on_record(
    project: Write, wire_server: Callable[..., WireServer], backend: LocalBackend
) -> None:
    primary, fallback, shadow = wire_server(OPENAI), wire_server(ANTHROPIC), wire_server(GEMINI)
    for _ in range(2):
        primary.queue(OPENAI.error_reply(500, "down"))
    fallback.queue(Reply(ANTHROPIC.text("Fallback answer.")))
    shadow.queue(Reply(GEMINI.text("Fallback answer.")))
    project(
        "agentgo.yaml",
        _config({"openai": primary, "anthropic": fallback, "gemini": shadow}),
    )
    body = (
        "  model:\n"
        f"    ref: openai:{OPENAI.model}\n"
        f"    fallbacks: [anthropic:{ANTHROPIC.model}]\n"
        f"    shadow: {{ref: gemini:{GEMINI.model}, sample: 1.0}}\n"
    )
    project("m/agents.yaml", _agent("resilient", "ignored", "").replace("  model: ignored\n", body))
    workflow(
        project,
        """
        steps:
          - id: ask
            agent: resilient
            prompt: "hello"
        outputs:
          answer: ${{ steps.ask.output }}
        """,
    )
    job = await backend.run(RunRequest(workflow="wf"))
    assert job.outputs == {"answer": "Fallback answer."}
    events = await backend.logs(LogsRequest(job_id=job.job_id))
    kinds = {e.kind: (e.message, e.data) for e in events}
    message, data = kinds["shadow"]
    assert message == (f"shadow gemini:{GEMINI.model} of anthropic:{ANTHROPIC.model}: agrees")
    assert data["shadow_text"] == "Fallback answer."
    message, costs = kinds["cost"]
    assert costs["calls"] == 1 and costs["shadow"]["calls"] == 1
    detail = await backend.job(job.job_id)
    assert detail.models == costs


async def test_a_missing_key_stops_the_run_before_a_job_exists(
    project: Write,
    wire_server: Callable[..., WireServer],
    monkeypatch: pytest.MonkeyPatch,
    backend: LocalBackend,
) -> None:
    server = wire_server(OPENAI)
    monkeypatch.delenv("TEST_API_KEY")
    project("agentgo.yaml", _config({"openai": server}))
    project("m/agents.yaml", _agent("a", f"openai:{OPENAI.model}"))
    workflow(project, "steps:\n  - id: s\n    agent: a\n    prompt: hi\n")
    with pytest.raises(ConfigError) as info:
        await backend.run(RunRequest(workflow="wf"))
    assert str(info.value) == (
        f"model openai:{OPENAI.model}: providers.openai.api_key: "
        "environment variable TEST_API_KEY is not set"
    )
    assert await backend.jobs(JobsQuery()) == []
    assert server.requests == []


async def test_a_provider_error_fails_the_step_with_a_clear_message(
    project: Write, wire_server: Callable[..., WireServer], backend: LocalBackend
) -> None:
    server = wire_server(ANTHROPIC)
    server.queue(Reply("<html>bad gateway</html>", status=200, content_type="text/html"))
    project("agentgo.yaml", _config({"anthropic": server}))
    project("m/agents.yaml", _agent("a", f"anthropic:{ANTHROPIC.model}"))
    workflow(project, "steps:\n  - id: s\n    agent: a\n    prompt: hi\n")
    job = await backend.run(RunRequest(workflow="wf"))
    assert job.status == "failed"
    assert job.error is not None
    assert job.error.startswith(f"step 's' failed: anthropic:{ANTHROPIC.model}: ")
    assert FAKE_KEY not in job.error


async def test_an_agent_over_its_budget_with_a_priced_model(
    project: Write, wire_server: Callable[..., WireServer], backend: LocalBackend
) -> None:
    server = wire_server(OPENAI)
    server.queue(
        Reply(OPENAI.tool_call([Call("echo", {"text": "a b"}, "c1")], input_tokens=1000)),
        Reply(OPENAI.text("never read", input_tokens=1000)),
    )
    prices = f", prices: {{{OPENAI.model}: {{input: 100.0, output: 100.0}}}}"
    project("agentgo.yaml", _config({"openai": server}, prices))
    body = "  tools: [echo]\n  budget: {usd: 0.15}\n"
    project("m/agents.yaml", _agent("spender", f"openai:{OPENAI.model}", body))
    workflow(project, "steps:\n  - id: s\n    agent: spender\n    prompt: hi\n")
    job = await backend.run(RunRequest(workflow="wf"))
    # Each turn: 1005 tokens at $100 per million = $0.1005; the second one is over $0.15.
    assert job.error == (
        "step 's' failed: agent 'spender' exceeded its budget of $0.15 "
        "(spent $0.201000 in 2 model turns)"
    )
    assert job.cost_usd == pytest.approx(0.201)


async def test_a_called_agent_on_a_real_model_is_counted_and_shadowed_on_the_callers_job(
    project: Write, wire_server: Callable[..., WireServer], backend: LocalBackend
) -> None:
    main, shadow = wire_server(OPENAI), wire_server(GEMINI)
    main.queue(Reply(OPENAI.text("Called answer.", input_tokens=20, output_tokens=4)))
    shadow.queue(Reply(GEMINI.text("Something else.")))
    project("agentgo.yaml", _config({"openai": main, "gemini": shadow}))
    body = (
        "  model:\n"
        f"    ref: openai:{OPENAI.model}\n"
        f"    shadow: {{ref: gemini:{GEMINI.model}, sample: 1.0}}\n"
    )
    agents = _agent("helper", "ignored").replace("  model: ignored\n", body)
    card = (
        "---\napiVersion: agentgo/v1\nkind: Capability\nmetadata: {name: helper-card}\n"
        "spec:\n  target: agent:helper\n  intents:\n"
        "    - {name: help.me, version: 1.0.0, input: {type: string}}\n"
    )
    project("m/agents.yaml", agents + card)
    workflow(
        project,
        """
        steps:
          - id: ask
            call: help.me
            input: "please"
        outputs:
          answer: ${{ steps.ask.output }}
        """,
    )
    job = await backend.run(RunRequest(workflow="wf"))
    assert job.outputs == {"answer": "Called answer."}
    assert job.tokens == 24
    kinds = [e.kind for e in await backend.logs(LogsRequest(job_id=job.job_id))]
    assert kinds.count("shadow") == 1 and kinds.count("call") == 1
    assert kinds[-1] == "job" and kinds.index("cost") < kinds.index("job")
