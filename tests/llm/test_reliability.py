"""The reliability layer: timeouts, retries, circuit breakers, failover, streams, shadows.

The providers here are small in-process stand-ins that fail, hang or stall on demand; the
layer under test is the real one. Waits between retries go through a recording ``sleep``,
and breakers read an injected clock, so no test waits for a backoff or a reset.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from agentgo_cli.errors import ProviderError
from agentgo_cli.llm.base import (
    ChatClient,
    Message,
    ModelResponse,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolDef,
    Usage,
)
from agentgo_cli.llm.cost import CallRecord, PriceTable
from agentgo_cli.llm.reliability import (
    MAX_RETRY_AFTER,
    BreakerPolicy,
    Breakers,
    CircuitBreaker,
    ReliableClient,
    RetryPolicy,
    Route,
    ShadowRecord,
)

MAIN = "openai:gpt-4o-mini"
BACKUP = "anthropic:claude-haiku-4-5"
SHADOW = "gemini:gemini-2.5-flash"

USAGE = Usage(1000, 200)
PARIS = ModelResponse(Message("assistant", "Paris."), USAGE, "stop", "provider-name")
QUESTION = [Message("user", "Capital of France?")]


def answer(text: str) -> ModelResponse:
    return ModelResponse(Message("assistant", text), USAGE, "stop", "provider-name")


def asks(*calls: ToolCall) -> ModelResponse:
    return ModelResponse(Message("assistant", tool_calls=list(calls)), USAGE, "tool_calls", "x")


def error(kind: str, status: int | None = None, retry_after: float | None = None) -> ProviderError:
    return ProviderError(
        f"{kind} from the stand-in", kind=kind, status=status, retry_after=retry_after
    )


SERVER = error("server", 500)


class Model:
    """A stand-in provider that completes only: each call plays the next outcome (the last
    one again once they run out): a response, an error to raise, or seconds to hang for."""

    def __init__(self, *outcomes: ModelResponse | ProviderError | Exception | float) -> None:
        self.outcomes = outcomes
        self.seen: list[list[Message]] = []

    @property
    def calls(self) -> int:
        return len(self.seen)

    async def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> ModelResponse:
        self.seen.append(list(messages))
        outcome = self.outcomes[min(self.calls, len(self.outcomes)) - 1]
        if isinstance(outcome, float):
            await asyncio.sleep(outcome)
            return PARIS
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


Step = TextDelta | ModelResponse | ProviderError | float


class Streamer:
    """A stand-in streaming provider: each call plays the next script of steps (the last one
    again once they run out): events to yield, an error to raise, or seconds to go quiet."""

    def __init__(self, *scripts: list[Step]) -> None:
        self.scripts = scripts
        self.calls = 0
        self.closed = 0

    async def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> ModelResponse:
        raise AssertionError("a streaming client is streamed")

    async def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        script = self.scripts[min(self.calls, len(self.scripts) - 1)]
        self.calls += 1
        try:
            for step in script:
                if isinstance(step, float):
                    await asyncio.sleep(step)
                elif isinstance(step, ProviderError):
                    raise step
                else:
                    yield step
        finally:
            self.closed += 1


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    """Everything a ReliableClient is built with, and what it reported."""

    clock: Clock = field(default_factory=Clock)
    sleeps: list[float] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    shadows: list[ShadowRecord] = field(default_factory=list)
    breakers: Breakers = field(init=False)

    def __post_init__(self) -> None:
        self.breakers = Breakers(self.clock)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(
        self, *routes: Route, shadow: Route | None = None, sample: float = 1.0, seed: int = 7
    ) -> ReliableClient:
        return ReliableClient(
            routes,
            breakers=self.breakers,
            prices=PriceTable(),
            shadow=shadow,
            shadow_sample=sample,
            on_call=self.calls.append,
            on_shadow=self.shadows.append,
            rng=random.Random(seed),
            sleep=self.sleep,
        )


@pytest.fixture
def rig() -> Rig:
    return Rig()


def route(
    ref: str,
    client: Model | Streamer,
    *,
    attempts: int = 3,
    failures: int = 5,
    timeout: float = 1.0,
    idle: float = 1.0,
) -> Route:
    return Route(
        ref,
        client,
        timeout=timeout,
        stream_idle=idle,
        retry=RetryPolicy(max_attempts=attempts),
        breaker=BreakerPolicy(failures=failures, reset_after=30.0),
    )


async def ask(client: ReliableClient) -> ModelResponse:
    return await client.complete(QUESTION, tools=[], params={"temperature": 0})


async def read(client: ReliableClient, into: list[StreamEvent] | None = None) -> list[StreamEvent]:
    events = [] if into is None else into
    async with aclosing(client.stream(QUESTION, tools=[], params={})) as stream:
        async for event in stream:
            events.append(event)
    return events


def priced(response: ModelResponse, ref: str) -> ModelResponse:
    return replace(response, model=ref, cost_usd=PriceTable().cost(ref, response.usage))


# complete(): answers, retries, timeouts


def test_reliable_client_is_a_chat_client(rig: Rig) -> None:
    assert isinstance(rig.client(route(MAIN, Model(PARIS))), ChatClient)


async def test_answer_is_named_after_its_route_and_priced(rig: Rig) -> None:
    got = await ask(rig.client(route(MAIN, Model(PARIS))))
    assert got == replace(PARIS, model=MAIN, cost_usd=got.cost_usd)
    assert got.cost_usd == pytest.approx(0.00027)
    assert len(rig.calls) == 1
    record = rig.calls[0]
    assert (record.ref, record.usage, record.ok, record.error, record.attempts) == (
        MAIN,
        USAGE,
        True,
        None,
        1,
    )
    assert record.shadow is False
    assert record.cost_usd == pytest.approx(0.00027)


async def test_rate_limit_is_retried_after_the_servers_retry_after(rig: Rig) -> None:
    model = Model(error("rate_limited", 429, retry_after=2.0), PARIS)
    got = await ask(rig.client(route(MAIN, model)))
    assert got.message.content == "Paris."
    assert rig.sleeps == [2.0]
    assert model.calls == 2
    assert (rig.calls[0].ok, rig.calls[0].attempts) == (True, 2)


async def test_retry_after_is_obeyed_up_to_a_cap(rig: Rig) -> None:
    model = Model(error("rate_limited", 429, retry_after=3600.0), PARIS)
    await ask(rig.client(route(MAIN, model)))
    assert rig.sleeps == [MAX_RETRY_AFTER] == [60.0]


async def test_server_errors_back_off_with_full_jitter(rig: Rig) -> None:
    model = Model(SERVER, SERVER, SERVER, PARIS)
    await ask(rig.client(route(MAIN, model, attempts=4), seed=3))
    draws = random.Random(3)
    assert rig.sleeps == [draws.uniform(0, 0.5), draws.uniform(0, 1.0), draws.uniform(0, 2.0)]
    assert all(0 <= wait <= cap for wait, cap in zip(rig.sleeps, (0.5, 1.0, 2.0), strict=True))
    assert model.calls == 4


def test_backoff_cap_doubles_up_to_max_delay() -> None:
    policy = RetryPolicy(max_attempts=9, initial=1.0, max_delay=3.0)
    rng, draws = random.Random(5), random.Random(5)
    waits = [policy.delay(attempt, SERVER, rng) for attempt in range(1, 7)]
    assert waits == [draws.uniform(0, cap) for cap in (1.0, 2.0, 3.0, 3.0, 3.0, 3.0)]


def test_retry_after_raises_a_jittered_wait_but_never_lowers_it() -> None:
    policy = RetryPolicy(initial=10.0, max_delay=10.0)
    rng, draws = random.Random(1), random.Random(1)
    wait = policy.delay(1, error("rate_limited", 429, retry_after=0.001), rng)
    assert wait == draws.uniform(0, 10.0)


async def test_bad_request_is_not_retried(rig: Rig) -> None:
    model = Model(ProviderError("model 'gpt-9' does not exist", kind="bad_request", status=400))
    with pytest.raises(ProviderError) as caught:
        await ask(rig.client(route(MAIN, model)))
    assert str(caught.value) == (
        "openai:gpt-4o-mini: bad request (HTTP 400): model 'gpt-9' does not exist"
    )
    assert (caught.value.kind, caught.value.status) == ("bad_request", 400)
    assert (caught.value.provider, caught.value.model) == ("openai", "gpt-4o-mini")
    assert model.calls == 1
    assert rig.sleeps == []
    assert rig.breakers.snapshot() == {MAIN: {"state": "closed", "failures": 0}}


async def test_each_call_has_a_timeout_and_a_timeout_is_retried(rig: Rig) -> None:
    model = Model(5.0, answer("Late but there."))
    began = time.monotonic()
    got = await ask(rig.client(route(MAIN, model, timeout=0.05)))
    assert time.monotonic() - began < 0.5
    assert got.message.content == "Late but there."
    assert model.calls == 2


async def test_a_route_that_keeps_timing_out_fails(rig: Rig) -> None:
    model = Model(5.0)
    began = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await ask(rig.client(route(MAIN, model, attempts=2, timeout=0.05)))
    assert time.monotonic() - began < 0.5
    assert str(caught.value) == "openai:gpt-4o-mini: timed out after 2 attempts"
    assert caught.value.kind == "timeout"


async def test_a_client_bug_propagates_as_it_is(rig: Rig) -> None:
    with pytest.raises(KeyError):
        await ask(rig.client(route(MAIN, Model(KeyError("choices")))))


# circuit breakers


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_reset() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerPolicy(failures=2, reset_after=30.0), clock)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert (breaker.state, breaker.allow()) == ("closed", True)
    breaker.record_failure()
    assert (breaker.state, breaker.allow()) == ("open", False)
    clock.now += 29.9
    assert breaker.allow() is False
    clock.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.allow() is True
    assert breaker.allow() is False, "one trial call at a time"
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 30.0
    assert breaker.allow() is True
    breaker.release()
    assert breaker.allow() is True, "a trial without a verdict gives its slot back"
    breaker.record_success()
    assert (breaker.state, breaker.failures) == ("closed", 0)


async def test_open_breaker_skips_the_route_without_calling_it(rig: Rig) -> None:
    model = Model(SERVER)
    client = rig.client(route(MAIN, model, attempts=1, failures=2))
    for _ in range(2):
        with pytest.raises(ProviderError):
            await ask(client)
    assert rig.breakers.snapshot() == {MAIN: {"state": "open", "failures": 2}}

    with pytest.raises(ProviderError) as caught:
        await ask(client)
    assert str(caught.value) == "openai:gpt-4o-mini: circuit open"
    assert caught.value.kind == "circuit_open"
    assert model.calls == 2
    assert (rig.calls[-1].ok, rig.calls[-1].attempts) == (False, 0)


async def test_half_open_trial_after_reset_closes_the_breaker_on_success(rig: Rig) -> None:
    model = Model(SERVER, SERVER, PARIS)
    client = rig.client(route(MAIN, model, attempts=1, failures=2))
    for _ in range(2):
        with pytest.raises(ProviderError):
            await ask(client)
    rig.clock.now += 30.0
    assert rig.breakers.snapshot()[MAIN]["state"] == "half_open"

    assert (await ask(client)).message.content == "Paris."
    assert model.calls == 3
    assert rig.breakers.snapshot() == {MAIN: {"state": "closed", "failures": 0}}


async def test_half_open_trial_failure_opens_the_breaker_again(rig: Rig) -> None:
    model = Model(SERVER)
    client = rig.client(route(MAIN, model, attempts=3, failures=2))
    with pytest.raises(ProviderError):
        await ask(client)
    rig.clock.now += 30.0
    with pytest.raises(ProviderError) as caught:
        await ask(client)
    assert str(caught.value) == (
        "openai:gpt-4o-mini: server error (HTTP 500) after 1 attempt, then circuit open"
    )
    assert model.calls == 3
    assert rig.breakers.snapshot()[MAIN]["state"] == "open"


async def test_non_retryable_errors_do_not_open_the_breaker(rig: Rig) -> None:
    client = rig.client(route(MAIN, Model(error("auth", 401)), failures=1))
    for _ in range(3):
        with pytest.raises(ProviderError):
            await ask(client)
    assert rig.breakers.snapshot()[MAIN]["state"] == "closed"


async def test_a_non_retryable_error_ends_a_half_open_trial_without_a_verdict(rig: Rig) -> None:
    client = rig.client(route(MAIN, Model(error("bad_request", 400)), failures=1))
    rig.breakers.get(MAIN, BreakerPolicy()).record_failure()
    rig.clock.now += 30.0
    with pytest.raises(ProviderError, match="bad request"):
        await ask(client)
    assert rig.breakers.snapshot()[MAIN] == {"state": "half_open", "failures": 1}
    assert rig.breakers.get(MAIN, BreakerPolicy()).allow() is True, "trial slot given back"


async def test_breakers_are_shared_by_clients_of_one_process(rig: Rig) -> None:
    with pytest.raises(ProviderError):
        await ask(rig.client(route(MAIN, Model(SERVER), attempts=2, failures=2)))
    other = Model(PARIS)
    with pytest.raises(ProviderError, match="circuit open"):
        await ask(rig.client(route(MAIN, other)))
    assert other.calls == 0


# failover


async def test_fails_over_when_the_retries_are_spent(rig: Rig) -> None:
    primary, backup = Model(SERVER), Model(answer("Paris!"))
    got = await ask(rig.client(route(MAIN, primary), route(BACKUP, backup)))
    assert got == priced(answer("Paris!"), BACKUP)
    assert got.cost_usd == pytest.approx(0.002)
    assert (primary.calls, backup.calls, len(rig.sleeps)) == (3, 1, 2)
    assert (rig.calls[0].ref, rig.calls[0].attempts, rig.calls[0].ok) == (BACKUP, 4, True)


async def test_fails_over_at_once_when_the_breaker_is_open(rig: Rig) -> None:
    opened = rig.breakers.get(MAIN, BreakerPolicy(failures=1))
    opened.record_failure()
    primary, backup = Model(PARIS), Model(PARIS)
    got = await ask(rig.client(route(MAIN, primary), route(BACKUP, backup)))
    assert got.model == BACKUP
    assert (primary.calls, backup.calls) == (0, 1)


async def test_fails_over_at_once_on_a_non_retryable_error(rig: Rig) -> None:
    primary, backup = Model(error("auth", 401)), Model(PARIS)
    got = await ask(rig.client(route(MAIN, primary), route(BACKUP, backup)))
    assert got.model == BACKUP
    assert (primary.calls, rig.sleeps) == (1, [])


async def test_fails_over_when_the_breaker_opens_during_retries(rig: Rig) -> None:
    primary, backup = Model(SERVER), Model(PARIS)
    got = await ask(rig.client(route(MAIN, primary, failures=2), route(BACKUP, backup)))
    assert got.model == BACKUP
    assert (primary.calls, len(rig.sleeps)) == (2, 1)


async def test_one_error_names_every_route_and_why_it_failed(rig: Rig) -> None:
    rig.breakers.get(BACKUP, BreakerPolicy(failures=1)).record_failure()
    client = rig.client(route(MAIN, Model(SERVER)), route(BACKUP, Model(PARIS)))
    with pytest.raises(ProviderError) as caught:
        await ask(client)
    message = (
        "all models failed: openai:gpt-4o-mini: server error (HTTP 500) after 3 attempts; "
        "anthropic:claude-haiku-4-5: circuit open"
    )
    assert str(caught.value) == message
    assert (caught.value.kind, caught.value.status, caught.value.provider) == (
        "server",
        500,
        "openai",
    )
    record = rig.calls[-1]
    assert (record.ref, record.ok, record.error, record.attempts) == (MAIN, False, message, 3)
    assert (record.usage, record.cost_usd) == (Usage(), 0.0)


async def test_when_every_circuit_is_open_the_error_is_circuit_open(rig: Rig) -> None:
    for ref in (MAIN, BACKUP):
        rig.breakers.get(ref, BreakerPolicy(failures=1)).record_failure()
    client = rig.client(route(MAIN, Model(PARIS)), route(BACKUP, Model(PARIS)))
    with pytest.raises(ProviderError) as caught:
        await ask(client)
    assert str(caught.value) == (
        "all models failed: openai:gpt-4o-mini: circuit open; anthropic:claude-haiku-4-5: "
        "circuit open"
    )
    assert caught.value.kind == "circuit_open"


async def test_last_error_kind_wins_and_provider_details_are_one_line(rig: Rig) -> None:
    broken = ProviderError("no route to host\n  localhost:11434", kind="connection")
    client = rig.client(
        route(MAIN, Model(SERVER), attempts=1), route("ollama:llama3", Model(broken), attempts=2)
    )
    with pytest.raises(ProviderError) as caught:
        await ask(client)
    assert str(caught.value) == (
        "all models failed: openai:gpt-4o-mini: server error (HTTP 500) after 1 attempt; "
        "ollama:llama3: connection failed: no route to host localhost:11434 after 2 attempts"
    )
    assert caught.value.kind == "connection"


# streaming


async def test_stream_yields_deltas_then_the_priced_response(rig: Rig) -> None:
    model = Streamer([TextDelta("Par"), TextDelta("is."), PARIS])
    events = await read(rig.client(route(MAIN, model)))
    assert events == [TextDelta("Par"), TextDelta("is."), priced(PARIS, MAIN)]
    assert model.closed == 1
    assert (rig.calls[0].ok, rig.calls[0].usage) == (True, USAGE)


async def test_a_client_that_cannot_stream_answers_in_one_delta(rig: Rig) -> None:
    events = await read(rig.client(route(MAIN, Model(PARIS))))
    assert events == [TextDelta("Paris."), priced(PARIS, MAIN)]


async def test_a_tool_call_answer_from_a_client_that_cannot_stream_has_no_delta(
    rig: Rig,
) -> None:
    wants = asks(ToolCall("c1", "search", {"q": "France"}))
    assert await read(rig.client(route(MAIN, Model(wants)))) == [priced(wants, MAIN)]


async def test_a_stall_before_the_first_token_fails_over(rig: Rig) -> None:
    stuck = Streamer([5.0])
    backup = Streamer([TextDelta("Paris."), PARIS])
    client = rig.client(route(MAIN, stuck, attempts=1, idle=0.05), route(BACKUP, backup))
    began = time.monotonic()
    events = await read(client)
    assert time.monotonic() - began < 0.5
    assert events == [TextDelta("Paris."), priced(PARIS, BACKUP)]
    assert (stuck.calls, stuck.closed) == (1, 1)


async def test_a_stall_before_the_first_token_is_retried(rig: Rig) -> None:
    model = Streamer([5.0], [TextDelta("Paris."), PARIS])
    events = await read(rig.client(route(MAIN, model, idle=0.05)))
    assert events[-1] == priced(PARIS, MAIN)
    assert (model.calls, model.closed, len(rig.sleeps)) == (2, 2, 1)
    assert rig.calls[0].attempts == 2


async def test_an_error_before_the_first_token_is_retried(rig: Rig) -> None:
    model = Streamer([error("server", 503)], [TextDelta("Paris."), PARIS])
    events = await read(rig.client(route(MAIN, model)))
    assert events == [TextDelta("Paris."), priced(PARIS, MAIN)]


async def test_a_stall_after_the_first_token_is_raised_not_restarted(rig: Rig) -> None:
    model = Streamer([TextDelta("Par"), 5.0, TextDelta("is."), PARIS])
    backup = Streamer([TextDelta("Paris."), PARIS])
    client = rig.client(route(MAIN, model, idle=0.05), route(BACKUP, backup))
    got: list[StreamEvent] = []
    began = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        await read(client, got)
    assert time.monotonic() - began < 0.5
    assert got == [TextDelta("Par")]
    assert str(caught.value) == "openai:gpt-4o-mini: stream stalled, after the answer began"
    assert caught.value.kind == "stalled"
    assert (model.calls, model.closed, backup.calls) == (1, 1, 0)
    assert (rig.calls[0].ok, rig.calls[0].error) == (False, str(caught.value))


async def test_a_stream_without_a_response_is_a_bad_response(rig: Rig) -> None:
    with pytest.raises(ProviderError) as caught:
        await read(rig.client(route(MAIN, Streamer([]))))
    assert str(caught.value) == (
        "openai:gpt-4o-mini: bad response: stream ended without a response"
    )


async def test_a_caller_that_stops_reading_closes_the_provider_stream(rig: Rig) -> None:
    model = Streamer([TextDelta("Par"), TextDelta("is."), PARIS])
    client = rig.client(route(MAIN, model, failures=1))
    rig.breakers.get(MAIN, BreakerPolicy()).record_failure()
    rig.clock.now += 30.0
    async with aclosing(client.stream(QUESTION, tools=[], params={})) as stream:
        async for _ in stream:
            break
    assert model.closed == 1
    assert rig.breakers.get(MAIN, BreakerPolicy()).allow() is True, "trial slot given back"


# shadows


async def test_shadow_that_agrees(rig: Rig) -> None:
    shadow = Model(answer("  Paris.\n"))
    client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, shadow))
    got = await ask(client)
    await client.drain(1.0)
    assert got == priced(PARIS, MAIN)
    [record] = rig.shadows
    assert record == ShadowRecord(
        ref=SHADOW,
        main_ref=MAIN,
        main_text="Paris.",
        shadow_text="  Paris.\n",
        agrees=True,
        usage=USAGE,
        cost_usd=record.cost_usd,
        duration_s=record.duration_s,
        error=None,
    )
    assert record.cost_usd == pytest.approx(0.0008)
    assert [(c.ref, c.shadow, c.ok) for c in rig.calls] == [
        (MAIN, False, True),
        (SHADOW, True, True),
    ]


async def test_shadow_that_disagrees(rig: Rig) -> None:
    client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, Model(answer("Lyon."))))
    assert (await ask(client)).message.content == "Paris."
    await client.drain(1.0)
    [record] = rig.shadows
    assert (record.agrees, record.main_text, record.shadow_text) == (False, "Paris.", "Lyon.")


async def test_shadow_tool_calls_compare_names_and_arguments(rig: Rig) -> None:
    main = asks(ToolCall("a1", "search", {"q": "France", "n": 3}), ToolCall("a2", "clock", {}))
    same = asks(ToolCall("b1", "clock", {}), ToolCall("b2", "search", {"n": 3, "q": "France"}))
    other = asks(ToolCall("c1", "search", {"q": "Lyon", "n": 3}), ToolCall("c2", "clock", {}))
    text = answer('search({"n": 3, "q": "France"})')
    for shadow, agrees in ((same, True), (other, False), (text, False)):
        client = rig.client(route(MAIN, Model(main)), shadow=route(SHADOW, Model(shadow)))
        await ask(client)
        await client.drain(1.0)
        assert rig.shadows[-1].agrees is agrees
    assert rig.shadows[0].main_text == 'clock({})\nsearch({"n": 3, "q": "France"})'


async def test_a_failing_shadow_never_affects_the_main_call(rig: Rig) -> None:
    for broken, reported in (
        (SERVER, "server error (HTTP 500)"),
        (RuntimeError("boom"), "RuntimeError: boom"),
    ):
        client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, Model(broken)))
        assert await ask(client) == priced(PARIS, MAIN)
        await client.drain(1.0)
        record = rig.shadows[-1]
        assert (record.error, record.agrees, record.shadow_text) == (reported, False, "")
        assert (record.usage, record.cost_usd) == (Usage(), 0.0)
    assert [c.ok for c in rig.calls if c.shadow] == [False, False]


async def test_a_shadow_is_not_retried_and_has_a_timeout(rig: Rig) -> None:
    shadow = Model(5.0)
    client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, shadow, timeout=0.05))
    await ask(client)
    await client.drain(1.0)
    assert (rig.shadows[0].error, shadow.calls) == ("timed out", 1)


async def test_a_slow_shadow_does_not_hold_the_caller_and_drain_cancels_it(rig: Rig) -> None:
    client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, Model(30.0), timeout=60))
    began = time.monotonic()
    assert (await ask(client)).message.content == "Paris."
    assert time.monotonic() - began < 0.5
    await client.drain(0.05)
    assert time.monotonic() - began < 0.5
    [record] = rig.shadows
    assert (record.error, record.agrees) == ("cancelled before it answered", False)
    await client.drain(0.0)


async def test_sample_zero_never_calls_the_shadow(rig: Rig) -> None:
    shadow = Model(PARIS)
    client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, shadow), sample=0.0)
    for _ in range(20):
        await ask(client)
    await client.drain(1.0)
    assert (shadow.calls, rig.shadows) == (0, [])


async def test_a_sample_copies_a_seeded_share_of_calls(rig: Rig) -> None:
    shadow = Model(PARIS)
    client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, shadow), sample=0.3)
    for _ in range(40):
        await ask(client)
    await client.drain(1.0)
    draws = random.Random(7)
    expected = sum(draws.random() < 0.3 for _ in range(40))
    assert 0 < shadow.calls == expected < 40


async def test_the_shadow_gets_the_call_as_it_was_made(rig: Rig) -> None:
    shadow = Model(PARIS)
    client = rig.client(route(MAIN, Model(PARIS)), shadow=route(SHADOW, shadow))
    messages = list(QUESTION)
    reply = await client.complete(messages, tools=[], params={})
    messages.append(reply.message)
    await client.drain(1.0)
    assert shadow.seen == [QUESTION]


async def test_a_streamed_call_is_copied_to_the_shadow(rig: Rig) -> None:
    main = Streamer([TextDelta("Paris."), PARIS])
    client = rig.client(route(MAIN, main), shadow=route(SHADOW, Model(answer("Paris."))))
    await read(client)
    await client.drain(1.0)
    assert [(r.main_ref, r.agrees) for r in rig.shadows] == [(MAIN, True)]


# construction


def test_construction_refuses_what_cannot_work(rig: Rig) -> None:
    with pytest.raises(ValueError, match="at least one route"):
        rig.client()
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        rig.client(route(MAIN, Model(PARIS)), sample=1.5)
    with pytest.raises(ValueError, match="max_attempts must be 1 or more, got 0"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="failures must be 1 or more, got 0"):
        BreakerPolicy(failures=0)
