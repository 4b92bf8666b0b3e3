"""The one reliability layer every model call goes through, whatever the provider.

For each route (the agent's model, then its fallbacks, in order) a call gets a timeout,
retries with exponential backoff and full jitter (honouring Retry-After), and a circuit
breaker shared by every job of the process; when a route is spent or its circuit is open,
the call fails over to the next. Answers are priced, every call is reported once it ends,
and a sampled copy of each call may go to a shadow model whose answer is only compared.

The retry loop is written by hand rather than with tenacity: each attempt must consult the
breaker, Retry-After must raise the jittered wait, and a stream may be retried only until
its first text reached the caller. Those fit a ten-line loop better than tenacity's hooks.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

from agentgo_cli.errors import ProviderError
from agentgo_cli.llm.base import (
    Client,
    Message,
    ModelResponse,
    StreamEvent,
    StreamingClient,
    TextDelta,
    ToolDef,
    Usage,
)
from agentgo_cli.llm.cost import CallRecord, PriceTable

__all__ = [
    "DEFAULT_STREAM_IDLE",
    "MAX_RETRY_AFTER",
    "BreakerPolicy",
    "Breakers",
    "CircuitBreaker",
    "ReliableClient",
    "RetryPolicy",
    "Route",
    "ShadowRecord",
]

MAX_RETRY_AFTER = 60.0
"""The longest Retry-After obeyed, in seconds: a server asking for more is waited on this
long, then tried again (or failed over), rather than holding a step for minutes or hours."""

DEFAULT_STREAM_IDLE = {
    "openai": 30.0,
    "litellm": 30.0,
    "ollama": 30.0,
    "anthropic": 60.0,
    "gemini": 90.0,
}
"""Seconds a stream may stay silent before it counts as stalled, by provider (models that
think before their first token need longer)."""

_Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often one route is tried, and how long to wait between tries."""

    max_attempts: int = 3
    initial: float = 0.5
    """The backoff cap after the first failure, in seconds; it doubles after each one."""
    max_delay: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"retry max_attempts must be 1 or more, got {self.max_attempts}")
        if self.initial < 0 or self.max_delay < 0:
            raise ValueError("retry delays must be 0 or more")

    def delay(self, attempt: int, error: ProviderError, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt`` (from 1): full jitter, so that
        clients failing together do not retry together, but never less than the server's
        Retry-After (up to MAX_RETRY_AFTER)."""
        cap = min(self.max_delay, self.initial * 2.0 ** min(attempt - 1, 62))
        wait = rng.uniform(0.0, cap)
        if error.retry_after is not None:
            wait = max(wait, min(error.retry_after, MAX_RETRY_AFTER))
        return wait


@dataclass(frozen=True)
class BreakerPolicy:
    """When a route's circuit opens (consecutive failures) and when it is tried again."""

    failures: int = 5
    reset_after: float = 30.0

    def __post_init__(self) -> None:
        if self.failures < 1:
            raise ValueError(f"breaker failures must be 1 or more, got {self.failures}")


class CircuitBreaker:
    """Stop calling a model that keeps failing, and try it again now and then.

    closed → open after ``failures`` consecutive failed calls; open → half_open once
    ``reset_after`` seconds passed, when one trial call at a time is allowed; half_open →
    closed on the trial's success, open again on its failure. Only failures of a retryable
    kind count: a bad request says nothing about whether the model is up.
    """

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        """closed, open or half_open."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.policy.reset_after:
            return "half_open"
        return "open"

    @property
    def failures(self) -> int:
        """Consecutive failed calls so far."""
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go out now; in half_open, this takes the one trial slot."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial:
            return False
        self._trial = True
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._opened_at is not None or self._failures >= self.policy.failures:
            self._opened_at = self._clock()
        self._trial = False

    def release(self) -> None:
        """End a call without a verdict (a non-retryable error, or a cancelled call), giving
        back the half-open trial slot it may hold."""
        self._trial = False


class Breakers:
    """The circuit breakers of one process, one per "provider:model", shared by all jobs.

    A model's breaker is made with the policy of the first route that asks for it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_ref: dict[str, CircuitBreaker] = {}

    def get(self, ref: str, policy: BreakerPolicy) -> CircuitBreaker:
        breaker = self._by_ref.get(ref)
        if breaker is None:
            breaker = self._by_ref[ref] = CircuitBreaker(policy, self._clock)
        return breaker

    def snapshot(self) -> dict[str, dict[str, str | int]]:
        """Each model's circuit state and consecutive failures, for display."""
        return {
            ref: {"state": breaker.state, "failures": breaker.failures}
            for ref, breaker in sorted(self._by_ref.items())
        }


@dataclass(frozen=True)
class Route:
    """One model a call may go to, with its limits."""

    ref: str
    """provider:model"""
    client: Client
    timeout: float = 60.0
    """Seconds for one complete() attempt (and for a stream from a client that cannot)."""
    stream_idle: float = 30.0
    """Seconds a stream may stay silent, first event included, before it counts as stalled."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)


@dataclass(frozen=True, slots=True)
class ShadowRecord:
    """A shadow model's answer to a copy of a main call, compared with the main answer."""

    ref: str
    main_ref: str
    main_text: str
    shadow_text: str
    agrees: bool
    """Same text once whitespace is normalised; for tool calls, same names and arguments."""
    usage: Usage
    cost_usd: float
    duration_s: float
    error: str | None


class ReliableClient:
    """A ChatClient over routes: timeouts, retries, breakers, failover, prices and shadows.

    ``routes`` are the agent's model then its fallbacks. A route is skipped while its
    circuit is open. Retryable errors (rate limited, server, connection, timeout, stalled)
    are retried per the route's RetryPolicy; any other error (bad request, auth, bad
    response) fails over to the next route at once, since trying again would fail the same
    way while a fallback, with its own key and model, may still work. Anything but a
    ProviderError from a client is a bug, and propagates as it is.
    """

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        breakers: Breakers,
        prices: PriceTable,
        shadow: Route | None = None,
        shadow_sample: float = 1.0,
        on_call: Callable[[CallRecord], None] | None = None,
        on_shadow: Callable[[ShadowRecord], None] | None = None,
        rng: random.Random | None = None,
        sleep: _Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not routes:
            raise ValueError("a reliable client needs at least one route")
        if not 0.0 <= shadow_sample <= 1.0:
            raise ValueError(f"shadow sample must be between 0 and 1, got {shadow_sample}")
        self._routes = [(route, breakers.get(route.ref, route.breaker)) for route in routes]
        self._prices = prices
        self._shadow = shadow
        self._shadow_sample = shadow_sample
        self._on_call = on_call
        self._on_shadow = on_shadow
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep
        self._clock = clock
        self._pending: set[asyncio.Task[None]] = set()

    async def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> ModelResponse:
        """One model turn from the first route that answers."""
        call = _Call(messages, tools, params, self._clock())
        for route, breaker in self._routes:
            run = call.start(route, breaker, self._rng, self._sleep)
            try:
                while await run.next():
                    try:
                        response = await _complete_once(route, messages, tools, params)
                    except ProviderError as exc:
                        run.failed(exc)
                    else:
                        run.succeeded()
                        return self._answered(call, route, response)
            finally:
                run.release()
        raise self._all_failed(call)

    async def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream one model turn from the first route that answers.

        A failure before the first text reached the caller is retried and failed over like
        in complete(); after it, the error is raised, since starting again would repeat
        text the caller already has.
        """
        call = _Call(messages, tools, params, self._clock())
        for route, breaker in self._routes:
            run = call.start(route, breaker, self._rng, self._sleep)
            try:
                while await run.next():
                    final: ModelResponse | None = None
                    sent = False
                    try:
                        async with aclosing(_events(route, messages, tools, params)) as events:
                            async for event in events:
                                if isinstance(event, ModelResponse):
                                    final = event
                                    break
                                sent = True
                                yield event
                        if final is None:
                            raise _error(route.ref, _NO_RESPONSE, "bad_response")
                    except ProviderError as exc:
                        run.failed(exc)
                        if sent:
                            raise self._broken_stream(call, run, exc) from exc
                    else:
                        run.succeeded()
                        yield self._answered(call, route, final)
                        return
            finally:
                run.release()
        raise self._all_failed(call)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 (it bounds the shadows)
        """Wait up to ``timeout`` seconds for pending shadow calls, then cancel the rest.

        The timeout cancels the shadow calls, not the caller, which an asyncio.timeout
        around this call would do.
        """
        if not self._pending:
            return
        _, late = await asyncio.wait(set(self._pending), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)

    def _answered(self, call: _Call, route: Route, response: ModelResponse) -> ModelResponse:
        """Price and report a main call's answer, and copy the call to the shadow."""
        cost = self._prices.cost(route.ref, response.usage)
        priced = replace(response, model=route.ref, cost_usd=cost)
        self._report(call, route.ref, priced.usage, cost, None)
        if self._shadow is not None and self._rng.random() < self._shadow_sample:
            # copies: the caller goes on to append this answer to its own list
            shadowed = self._run_shadow(
                self._shadow, list(call.messages), list(call.tools), dict(call.params), priced
            )
            task = asyncio.create_task(shadowed)
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return priced

    def _all_failed(self, call: _Call) -> ProviderError:
        """One error naming every route and why it failed; reported as the call's outcome."""
        reasons = "; ".join(run.reason() for run in call.runs)
        message = reasons if len(call.runs) == 1 else f"all models failed: {reasons}"
        self._report(call, call.runs[0].route.ref, Usage(), 0.0, message)
        errors = [(run.route.ref, run.error) for run in call.runs if run.error is not None]
        if not errors:
            return _error(call.runs[-1].route.ref, message, "circuit_open", bare=True)
        ref, last = errors[-1]
        return _error(ref, message, last.kind, last.status, bare=True)

    def _broken_stream(self, call: _Call, run: _RouteRun, error: ProviderError) -> ProviderError:
        """The error of a stream that failed after some of its text reached the caller."""
        ref = run.route.ref
        failure = _error(ref, f"{_describe(ref, error)}, after the answer began", error.kind)
        self._report(call, ref, Usage(), 0.0, str(failure))
        return failure

    def _report(self, call: _Call, ref: str, usage: Usage, cost: float, error: str | None) -> None:
        if self._on_call is not None:
            duration = self._clock() - call.started
            ok = error is None
            self._on_call(CallRecord(ref, usage, cost, False, ok, error, duration, call.attempts))

    async def _run_shadow(
        self,
        route: Route,
        messages: list[Message],
        tools: list[ToolDef],
        params: dict[str, Any],
        main: ModelResponse,
    ) -> None:
        """Send a copy of a main call to the shadow model and report how its answer compares.

        One complete() call, also for a streamed main call: no retries, no failover. Whatever
        happens here stays here: errors are caught and reported, and the caller already has
        its answer.
        """
        started = self._clock()
        response: ModelResponse | None = None
        error: str | None = None
        try:
            response = await _complete_once(route, messages, tools, params)
        except asyncio.CancelledError:
            self._shadow_done(route, main, None, "cancelled before it answered", started)
            raise
        except ProviderError as exc:
            error = _describe(route.ref, exc)
        except Exception as exc:
            error = f"{type(exc).__name__}: {_one_line(str(exc))}"
        self._shadow_done(route, main, response, error, started)

    def _shadow_done(
        self,
        route: Route,
        main: ModelResponse,
        response: ModelResponse | None,
        error: str | None,
        started: float,
    ) -> None:
        duration = self._clock() - started
        usage = response.usage if response is not None else Usage()
        cost = self._prices.cost(route.ref, usage)
        if self._on_call is not None:
            record = CallRecord(route.ref, usage, cost, True, error is None, error, duration, 1)
            self._on_call(record)
        if self._on_shadow is not None:
            self._on_shadow(
                ShadowRecord(
                    ref=route.ref,
                    main_ref=main.model,
                    main_text=_answer_text(main),
                    shadow_text=_answer_text(response) if response is not None else "",
                    agrees=response is not None and _agrees(main, response),
                    usage=usage,
                    cost_usd=cost,
                    duration_s=duration,
                    error=error,
                )
            )


@dataclass(slots=True)
class _Call:
    """One main call: what was asked, when, and the routes tried so far."""

    messages: list[Message]
    tools: list[ToolDef]
    params: dict[str, Any]
    started: float
    runs: list[_RouteRun] = field(default_factory=list)

    def start(
        self, route: Route, breaker: CircuitBreaker, rng: random.Random, sleep: _Sleep
    ) -> _RouteRun:
        run = _RouteRun(route, breaker, rng, sleep)
        self.runs.append(run)
        return run

    @property
    def attempts(self) -> int:
        return sum(run.count for run in self.runs)


class _RouteRun:
    """One route's attempts within one call: breaker checks, backoff waits, the outcome."""

    def __init__(
        self, route: Route, breaker: CircuitBreaker, rng: random.Random, sleep: _Sleep
    ) -> None:
        self.route = route
        self.count = 0
        self.error: ProviderError | None = None
        self._breaker = breaker
        self._rng = rng
        self._sleep = sleep
        self._refused: str | None = None
        self._in_flight = False

    async def next(self) -> bool:
        """Whether to make another attempt, after waiting the backoff when it is a retry."""
        error = self.error
        if error is not None:
            if not error.retryable or self.count >= self.route.retry.max_attempts:
                return False
            if self._breaker.state == "open":
                self._refused = "open"
                return False
            await self._sleep(self.route.retry.delay(self.count, error, self._rng))
        if not self._breaker.allow():
            self._refused = self._breaker.state
            return False
        self.count += 1
        self._in_flight = True
        return True

    def failed(self, error: ProviderError) -> None:
        self.error = error
        self._in_flight = False
        if error.retryable:
            self._breaker.record_failure()
        else:
            self._breaker.release()

    def succeeded(self) -> None:
        self._in_flight = False
        self._breaker.record_success()

    def release(self) -> None:
        """Give back a half-open trial taken by an attempt that was cancelled."""
        if self._in_flight:
            self._in_flight = False
            self._breaker.release()

    def reason(self) -> str:
        """Why this route gave no answer, for the error naming every route."""
        ref = self.route.ref
        if self.error is None:
            return f"{ref}: circuit {_state_words(self._refused)}"
        text = f"{ref}: {_describe(ref, self.error)}"
        if self.error.retryable:
            text += f" after {self.count} attempt{'s' if self.count != 1 else ''}"
        if self._refused is not None:
            text += f", then circuit {_state_words(self._refused)}"
        return text


async def _complete_once(
    route: Route, messages: list[Message], tools: list[ToolDef], params: dict[str, Any]
) -> ModelResponse:
    """One attempt on one route, within the route's timeout."""
    try:
        async with asyncio.timeout(route.timeout):
            return await route.client.complete(messages, tools=tools, params=params)
    except TimeoutError:
        raise _error(route.ref, f"no answer within {route.timeout:g} s", "timeout") from None


async def _events(
    route: Route, messages: list[Message], tools: list[ToolDef], params: dict[str, Any]
) -> AsyncGenerator[StreamEvent, None]:
    """One streaming attempt on one route, watched for silence.

    A client that cannot stream answers in one complete() call: its text as one delta,
    then the response.
    """
    client = route.client
    if not isinstance(client, StreamingClient):
        response = await _complete_once(route, messages, tools, params)
        if response.message.content:
            yield TextDelta(response.message.content)
        yield response
        return
    events = client.stream(messages, tools=tools, params=params)
    try:
        while True:
            try:
                async with asyncio.timeout(route.stream_idle):
                    event = await anext(events)
            except StopAsyncIteration:
                return
            except TimeoutError:
                quiet = f"stream stalled, nothing for {route.stream_idle:g} s"
                raise _error(route.ref, quiet, "stalled") from None
            yield event
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


_NO_RESPONSE = "stream ended without a response"
_PHRASES = {
    "rate_limited": "rate limited",
    "server": "server error",
    "connection": "connection failed",
    "timeout": "timed out",
    "stalled": "stream stalled",
    "bad_response": "bad response",
    "auth": "not authorised",
    "bad_request": "bad request",
}
_TERSE = frozenset({"rate_limited", "server", "timeout", "stalled"})
"""Kinds whose phrase and HTTP status say it all; others carry the provider's own words."""
_DETAIL_CHARS = 200


def _describe(ref: str, error: ProviderError) -> str:
    """A short account of ``error``: 'server error (HTTP 500)', 'bad request (HTTP 400):
    model not found'."""
    text = _PHRASES.get(error.kind, error.kind.replace("_", " "))
    if error.status is not None:
        text += f" (HTTP {error.status})"
    if error.kind not in _TERSE:
        detail = _one_line(str(error).removeprefix(f"{ref}: "))
        if detail:
            text += f": {detail}"
    return text


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _DETAIL_CHARS:
        text = text[: _DETAIL_CHARS - 1] + "…"
    return text


def _state_words(state: str | None) -> str:
    return "half-open, its trial call still running" if state == "half_open" else "open"


def _error(
    ref: str, message: str, kind: str, status: int | None = None, *, bare: bool = False
) -> ProviderError:
    """A ProviderError about ``ref``; its message starts with the ref unless ``bare``."""
    provider, _, model = ref.partition(":")
    text = message if bare else f"{ref}: {message}"
    return ProviderError(text, kind=kind, provider=provider, model=model, status=status)


def _answer_text(response: ModelResponse) -> str:
    """The answer as text: its content, then one line per tool call asked for."""
    lines = [response.message.content] if response.message.content else []
    lines += [f"{name}({args})" for name, args in _tool_calls(response)]
    return "\n".join(lines)


def _tool_calls(response: ModelResponse) -> list[tuple[str, str]]:
    """Tool names and canonical arguments, in a fixed order (call ids and order differ
    between models without changing the answer)."""
    return sorted(
        (call.name, json.dumps(call.arguments, sort_keys=True, ensure_ascii=False, default=str))
        for call in response.message.tool_calls
    )


def _agrees(main: ModelResponse, shadow: ModelResponse) -> bool:
    if main.message.tool_calls or shadow.message.tool_calls:
        return _tool_calls(main) == _tool_calls(shadow)
    return main.message.content.split() == shadow.message.content.split()
