"""The offline, deterministic ``scripted`` provider used by demos, tests and benchmarks."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import ProviderError
from agentgo_cli.expr import ExpressionError, render
from agentgo_cli.llm.base import (
    Message,
    ModelResponse,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolDef,
    Usage,
)

if TYPE_CHECKING:
    from agentgo_cli.llm.cost import Price
    from agentgo_cli.manifests.models.agent import AgentSpec, ScriptEntry

__all__ = ["ScriptedClient"]


class ScriptedClient:
    """Answer from an agent's ``script``, one entry per model turn.

    A turn consumes the first remaining entry whose ``when`` regex matches the latest user or
    tool message, else the next remaining entry without ``when``; with none left it echoes
    the latest user message. ``${{ input }}`` in an entry is that latest message's text.
    The consumed entries are this instance's state: use one client per agent invocation.
    """

    def __init__(self, spec: AgentSpec, model: str, *, price: Price | None = None) -> None:
        self.model = model
        script = _compile(spec)
        self._entries, self._patterns, self._latency, self._usage = script
        self._cost = price.cost(self._usage) if price is not None else 0.0
        """What each turn costs: scripted models are free unless the config prices them."""
        self._left = list(range(len(self._entries)))
        self._calls = 0

    def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> asyncio.Future[ModelResponse]:
        """Play the next script entry for this conversation.

        The answer is worked out at once and handed over when the simulated latency is up
        (a ProviderError too), through a future rather than a coroutine.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ModelResponse] = loop.create_future()
        try:
            response: ModelResponse | ProviderError = self._turn(messages)
        except ProviderError as exc:
            response = exc
        if self._latency > 0:
            _after(loop, self._latency, future, response)
        else:
            _settle(future, response)
        return future

    async def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        """Play the next script entry as a stream: its text in word-sized deltas spread over
        the simulated latency, then the whole response (the same one complete() gives)."""
        try:
            response = self._turn(messages)
        except ProviderError:
            await asyncio.sleep(self._latency)
            raise
        pieces = _WORD_RE.findall(response.message.content)
        pause = self._latency / (len(pieces) or 1)
        for piece in pieces:
            if pause > 0:
                await asyncio.sleep(pause)
            yield TextDelta(piece)
        if not pieces and pause > 0:
            await asyncio.sleep(pause)
        yield response

    def _turn(self, messages: list[Message]) -> ModelResponse:
        latest = _latest(messages, ("user", "tool"))
        index = self._next(latest)
        if index is None:
            reply = Message("assistant", _latest(messages, ("user",)))
            return ModelResponse(reply, self._usage, "stop", self.model, self._cost)
        entry = self._entries[index]
        scope = {"input": latest}
        try:
            if entry.tool is not None:
                args = render(entry.tool.args, scope)
                self._calls += 1
                call = ToolCall(f"call_{self._calls}", entry.tool.name, args)
                message = Message("assistant", tool_calls=[call])
                return ModelResponse(message, self._usage, "tool_calls", self.model, self._cost)
            reply = render(entry.reply, scope)
        except ExpressionError as exc:
            raise ProviderError(
                f"scripted model '{self.model}': script entry {index + 1}: {exc}"
            ) from None
        text = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
        return ModelResponse(
            Message("assistant", text), self._usage, "stop", self.model, self._cost
        )

    def _next(self, latest: str) -> int | None:
        """Take the index of the entry this turn plays, or None when the script is done."""
        chosen = next(
            (i for i in self._left if (p := self._patterns[i]) is not None and p.search(latest)),
            None,
        )
        if chosen is None:
            chosen = next((i for i in self._left if self._patterns[i] is None), None)
        if chosen is not None:
            self._left.remove(chosen)
        return chosen


_Script = tuple[list["ScriptEntry"], list["re.Pattern[str] | None"], float, Usage]
_SCRIPTS: dict[int, tuple[AgentSpec, _Script]] = {}


def _compile(spec: AgentSpec) -> _Script:
    """The parts of a script that never change, worked out once per agent spec."""
    known = _SCRIPTS.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    entries: list[ScriptEntry] = list(spec.script or [])
    patterns = [re.compile(e.when) if e.when is not None else None for e in entries]
    latency = spec.latency.seconds if spec.latency is not None else 0.0
    usage = spec.usage
    fixed = Usage(usage.input_tokens, usage.output_tokens) if usage is not None else Usage()
    script: _Script = (entries, patterns, latency, fixed)
    _SCRIPTS[id(spec)] = (spec, script)  # the spec is kept, so its id is not reused
    return script


_WORD_RE = re.compile(r"\s*\S+\s*|\s+")
"""A streamed reply's pieces: each word with the spaces around it (joined, the text)."""

_TICK = 0.001
"""Simulated latencies end on a millisecond boundary, never early."""
_Pending = list[tuple["asyncio.Future[ModelResponse]", "ModelResponse | ProviderError"]]
_WAITING: dict[asyncio.AbstractEventLoop, dict[int, _Pending]] = {}


def _after(
    loop: asyncio.AbstractEventLoop,
    seconds: float,
    future: asyncio.Future[ModelResponse],
    response: ModelResponse | ProviderError,
) -> None:
    """Settle ``future`` with ``response`` ``seconds`` from now, rounded up to the next
    millisecond.

    Model turns that end in the same millisecond share one timer of the loop, so ten
    thousand agents waiting on the simulated model cost the loop a few hundred timers,
    not ten thousand (each one a push and a pop on the loop's heap).
    """
    tick = math.ceil((loop.time() + seconds) / _TICK)
    slots = _WAITING.get(loop)
    if slots is None:
        slots = _WAITING[loop] = {}
    pending = slots.get(tick)
    if pending is None:
        pending = slots[tick] = []
        loop.call_at(tick * _TICK, _wake, loop, tick)
    pending.append((future, response))


def _wake(loop: asyncio.AbstractEventLoop, tick: int) -> None:
    slots = _WAITING[loop]
    for future, response in slots.pop(tick):
        _settle(future, response)
    if not slots:
        del _WAITING[loop]  # nothing keeps a closed loop alive


def _settle(future: asyncio.Future[ModelResponse], response: ModelResponse | ProviderError) -> None:
    if future.done():  # the turn was cancelled
        return
    if isinstance(response, ProviderError):
        future.set_exception(response)
    else:
        future.set_result(response)


def _latest(messages: list[Message], roles: tuple[str, ...]) -> str:
    for message in reversed(messages):
        if message.role in roles:
            return message.content
    return ""
