"""The Anthropic Messages API through the ``anthropic`` SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import anthropic
from anthropic.types import Message as AnthropicMessage

from agentgo_cli.errors import ProviderError
from agentgo_cli.llm.base import (
    Message,
    ModelResponse,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolDef,
    Usage,
)
from agentgo_cli.llm.providers._common import (
    SHAPE_ERRORS,
    TRANSPORT_ERRORS,
    Failures,
    finish_reason,
    parse_arguments,
    placeholder_key,
    stop_list,
)

if TYPE_CHECKING:
    from anthropic.types import (
        ContentBlockParam,
        MessageDeltaUsage,
        MessageParam,
        RawMessageStreamEvent,
        TextBlockParam,
        ToolParam,
        ToolResultBlockParam,
    )
    from anthropic.types import Usage as AnthropicUsage

    from agentgo_cli.llm.providers import Endpoint

__all__ = ["AnthropicMessages"]

DEFAULT_MAX_TOKENS = 1024
"""The API requires ``max_tokens``; this is the limit when params give none."""

_CALL_ERRORS: tuple[type[Exception], ...] = (
    anthropic.AnthropicError,
    *TRANSPORT_ERRORS,
    ValueError,
)
"""What a call may raise: the SDK's errors, httpx2's (mid-stream the SDK lets them through),
JSON that does not parse."""

_ERROR_TYPES = {
    "rate_limit_error": "rate_limited",
    "overloaded_error": "server",
    "api_error": "server",
    "timeout_error": "timeout",
    "authentication_error": "auth",
    "permission_error": "auth",
}
"""The kind of an error event in a stream, by its ``error.type``."""


class AnthropicMessages:
    """A Claude model behind the Messages API.

    The SDK never retries (``max_retries=0``): the reliability layer does.
    """

    def __init__(self, endpoint: Endpoint, model: str) -> None:
        self.endpoint = endpoint
        self.model = model
        self.ref = f"{endpoint.provider}:{model}"
        self._failures = Failures(endpoint, model)
        self._client = anthropic.AsyncAnthropic(
            api_key=placeholder_key(endpoint),
            base_url=endpoint.base_url,
            max_retries=0,
            timeout=endpoint.timeout,
        )

    def __repr__(self) -> str:
        return f"AnthropicMessages({self.ref!r}, base_url={self.endpoint.base_url!r})"

    async def aclose(self) -> None:
        """Close the SDK client and its connections."""
        await self._client.close()

    async def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> ModelResponse:
        """Run one model turn."""
        request = self._request(messages, tools, params)
        try:
            answer: object = await self._client.messages.create(**request)
        except _CALL_ERRORS as exc:
            raise self._failure(exc, mid_stream=False) from None
        if not isinstance(answer, AnthropicMessage):  # the SDK hands back non-JSON as text
            raise self._failures.bad_response("the body is not valid JSON")
        try:
            return self._response(answer)
        except SHAPE_ERRORS as exc:
            raise self._failures.bad_response(f"unexpected body ({exc})") from None

    async def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        """Yield the answer's text as it arrives, then the whole turn."""
        request = self._request(messages, tools, params)
        turn = _StreamedTurn()
        try:
            events = await self._client.messages.create(**request, stream=True)
            async with events:
                async for event in events:
                    turn.started = True
                    text = turn.add(event)
                    if text:
                        yield TextDelta(text)
        except (*_CALL_ERRORS, *SHAPE_ERRORS) as exc:
            raise self._failure(exc, mid_stream=turn.started) from None
        yield turn.response(self._failures)

    def _request(
        self, messages: list[Message], tools: list[ToolDef], params: dict[str, Any]
    ) -> dict[str, Any]:
        """The arguments of ``messages.create``.

        System messages become ``system``; tools are left out when there are none; params
        other than ``max_tokens`` go in ``extra_body`` under the API's names, so any
        parameter the API knows works, not only those this SDK version names.
        """
        body = dict(params)
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": body.pop("max_tokens", DEFAULT_MAX_TOKENS),
            "messages": _messages(messages, self._failures),
        }
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        if system:
            request["system"] = system
        if tools:
            request["tools"] = [_tool(t) for t in tools]
        if "stop" in body:
            body["stop_sequences"] = stop_list(body.pop("stop"), self._failures)
        if body:
            request["extra_body"] = body
        return request

    def _response(self, answer: AnthropicMessage) -> ModelResponse:
        content = getattr(answer, "content", None)
        if not isinstance(content, list):
            raise self._failures.bad_response("no content in the body")
        text = "".join(block.text for block in content if block.type == "text")
        calls = [
            ToolCall(block.id, block.name, dict(block.input))
            for block in content
            if block.type == "tool_use"
        ]
        reply = Message("assistant", text, tool_calls=calls)
        reason = finish_reason(answer.stop_reason, has_calls=bool(calls))
        return ModelResponse(reply, _usage(answer.usage), reason, self.ref)

    def _failure(self, exc: Exception, *, mid_stream: bool) -> ProviderError:
        failures = self._failures
        if isinstance(exc, anthropic.APIStatusError):
            if exc.status_code < 400:  # an error event inside a stream that began with 200
                kind = _ERROR_TYPES.get(str(exc.type), "bad_request")
                return failures.in_stream(kind, exc.body)
            return failures.status(exc.status_code, exc.response.headers, exc.body)
        if isinstance(exc, anthropic.APITimeoutError):
            return failures.timeout(mid_stream=mid_stream)
        if isinstance(exc, anthropic.APIConnectionError):
            return failures.connection(exc, mid_stream=mid_stream)
        if isinstance(exc, anthropic.APIResponseValidationError):
            return failures.bad_response("the body does not match the API's schema")
        if isinstance(exc, TRANSPORT_ERRORS):
            return failures.transport(exc, mid_stream=mid_stream)
        if isinstance(exc, json.JSONDecodeError):
            return failures.bad_response("the body is not valid JSON")
        return failures.bad_response(f"unexpected content ({type(exc).__name__}: {exc})")


@dataclass
class _Block:
    """One content block of a streamed message: text, or a tool call's JSON in pieces."""

    type: str
    text: list[str] = field(default_factory=list)
    id: str = ""
    name: str = ""
    input: dict[str, Any] = field(default_factory=dict)


@dataclass
class _StreamedTurn:
    """What a stream told so far: the blocks by index, the stop reason and the usage."""

    started: bool = False
    blocks: dict[int, _Block] = field(default_factory=dict)
    stop_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, event: RawMessageStreamEvent) -> str:
        """Take in one event; return the text it adds."""
        if event.type == "message_start":
            usage = _usage(event.message.usage)
            self.input_tokens, self.output_tokens = usage.input_tokens, usage.output_tokens
        elif event.type == "content_block_start":
            start = event.content_block
            block = self.blocks[event.index] = _Block(start.type)
            if start.type == "tool_use":
                block.id, block.name, block.input = start.id, start.name, dict(start.input)
        elif event.type == "content_block_delta":
            block = self.blocks[event.index]
            delta = event.delta
            if delta.type == "text_delta":
                block.text.append(delta.text)
                return delta.text
            if delta.type == "input_json_delta":
                block.text.append(delta.partial_json)
        elif event.type == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self._count(event.usage)
        return ""

    def _count(self, usage: MessageDeltaUsage) -> None:
        """message_delta's counts are totals so far; input counts may come only here."""
        self.output_tokens = usage.output_tokens or self.output_tokens
        if usage.input_tokens is not None:
            self.input_tokens = (
                usage.input_tokens
                + (usage.cache_creation_input_tokens or 0)
                + (usage.cache_read_input_tokens or 0)
            )

    def response(self, failures: Failures) -> ModelResponse:
        if self.stop_reason is None:
            raise failures.error("connection", "the stream ended before the answer was complete")
        ordered = [block for _, block in sorted(self.blocks.items())]
        text = "".join("".join(b.text) for b in ordered if b.type == "text")
        calls = [
            ToolCall(b.id, b.name, parse_arguments("".join(b.text), b.name, failures) or b.input)
            for b in ordered
            if b.type == "tool_use"
        ]
        reply = Message("assistant", text, tool_calls=calls)
        reason = finish_reason(self.stop_reason, has_calls=bool(calls))
        usage = Usage(self.input_tokens, self.output_tokens)
        return ModelResponse(reply, usage, reason, failures.ref)


def _usage(usage: AnthropicUsage) -> Usage:
    """Input counts what was read from and written to the prompt cache too, as OpenAI's
    prompt_tokens does."""
    cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    return Usage(usage.input_tokens + cached, usage.output_tokens)


def _tool(tool: ToolDef) -> ToolParam:
    return cast(
        "ToolParam",
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters},
    )


def _messages(messages: list[Message], failures: Failures) -> list[MessageParam]:
    """User and assistant turns; consecutive tool results make one user message."""
    turns: list[MessageParam] = []
    results: list[ToolResultBlockParam] = []
    for message in messages:
        if message.role == "tool":
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id or "",
                    "content": message.content,
                }
            )
            continue
        if results:
            turns.append({"role": "user", "content": results})
            results = []
        if message.role == "user":
            turns.append({"role": "user", "content": message.content})
        elif message.role == "assistant":
            turns.append({"role": "assistant", "content": _assistant_blocks(message)})
        elif message.role != "system":
            raise failures.error(
                "bad_request",
                f"message role '{message.role}' is not one of system, user, assistant, tool",
            )
    if results:
        turns.append({"role": "user", "content": results})
    return turns


def _assistant_blocks(message: Message) -> list[ContentBlockParam]:
    """The text (the API refuses an empty text block) and a tool_use block per call."""
    blocks: list[ContentBlockParam] = []
    if message.content:
        text: TextBlockParam = {"type": "text", "text": message.content}
        blocks.append(text)
    for call in message.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        )
    return blocks
