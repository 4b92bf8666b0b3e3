"""OpenAI Chat Completions through the ``openai`` SDK; also LiteLLM and Ollama, which speak it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import openai
from openai.types.chat import ChatCompletion

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
)

if TYPE_CHECKING:
    from openai.types.chat import (
        ChatCompletionChunk,
        ChatCompletionFunctionToolParam,
        ChatCompletionMessageFunctionToolCallParam,
        ChatCompletionMessageParam,
    )
    from openai.types.completion_usage import CompletionUsage

    from agentgo_cli.llm.providers import Endpoint

__all__ = ["OpenAIChat"]

_CALL_ERRORS: tuple[type[Exception], ...] = (openai.OpenAIError, *TRANSPORT_ERRORS, ValueError)
"""What a call may raise: the SDK's errors, httpx2's (mid-stream), JSON that does not parse."""


class OpenAIChat:
    """A chat model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    The SDK never retries (``max_retries=0``): the reliability layer does.
    """

    def __init__(self, endpoint: Endpoint, model: str) -> None:
        self.endpoint = endpoint
        self.model = model
        self.ref = f"{endpoint.provider}:{model}"
        self._failures = Failures(endpoint, model)
        self._client = openai.AsyncOpenAI(
            api_key=placeholder_key(endpoint),
            base_url=endpoint.base_url,
            max_retries=0,
            timeout=endpoint.timeout,
        )

    def __repr__(self) -> str:
        return f"OpenAIChat({self.ref!r}, base_url={self.endpoint.base_url!r})"

    async def aclose(self) -> None:
        """Close the SDK client and its connections."""
        await self._client.close()

    async def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> ModelResponse:
        """Run one model turn."""
        request = self._request(messages, tools, params)
        try:
            completion: object = await self._client.chat.completions.create(**request)
        except _CALL_ERRORS as exc:
            raise self._failure(exc, mid_stream=False) from None
        if not isinstance(completion, ChatCompletion):  # the SDK hands back non-JSON as text
            raise self._failures.bad_response("the body is not valid JSON")
        try:
            return self._response(completion)
        except SHAPE_ERRORS as exc:
            raise self._failures.bad_response(f"unexpected body ({exc})") from None

    async def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        """Yield the answer's text as it arrives, then the whole turn.

        Sets ``stream_options.include_usage``: only then does the stream end with the usage.
        """
        request = self._request(messages, tools, params)
        turn = _StreamedTurn()
        try:
            chunks = await self._client.chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
            async with chunks:
                async for chunk in chunks:
                    turn.started = True
                    text = turn.add(chunk)
                    if text:
                        yield TextDelta(text)
        except (*_CALL_ERRORS, *SHAPE_ERRORS) as exc:
            raise self._failure(exc, mid_stream=turn.started) from None
        yield turn.response(self._failures)

    def _request(
        self, messages: list[Message], tools: list[ToolDef], params: dict[str, Any]
    ) -> dict[str, Any]:
        """The arguments of ``create``: tools left out when there are none, params under
        the API's names.

        Params go in ``extra_body``: the SDK passes them on as they are, so any parameter
        the endpoint knows works, not only those this SDK version names.
        """
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [_message(m, self._failures) for m in messages],
        }
        if tools:
            request["tools"] = [_tool(t) for t in tools]
        body = dict(params)
        if "max_tokens" in body and self.endpoint.provider == "openai":
            # OpenAI's reasoning models refuse max_tokens; compatible servers may not know
            # the newer name.
            body["max_completion_tokens"] = body.pop("max_tokens")
        if body:
            request["extra_body"] = body
        return request

    def _response(self, completion: ChatCompletion) -> ModelResponse:
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise self._failures.bad_response("no choices in the body")
        choice = choices[0]
        message = getattr(choice, "message", None)
        if message is None:
            raise self._failures.bad_response("the first choice has no message")
        calls = [
            ToolCall(
                call.id,
                call.function.name,
                parse_arguments(call.function.arguments, call.function.name, self._failures),
            )
            for call in message.tool_calls or []
            if call.type == "function"
        ]
        reply = Message("assistant", message.content or "", tool_calls=calls)
        reason = finish_reason(getattr(choice, "finish_reason", None), has_calls=bool(calls))
        return ModelResponse(reply, _usage(getattr(completion, "usage", None)), reason, self.ref)

    def _failure(self, exc: Exception, *, mid_stream: bool) -> ProviderError:
        failures = self._failures
        if isinstance(exc, openai.APIStatusError):
            return failures.status(exc.status_code, exc.response.headers, exc.body)
        if isinstance(exc, openai.APITimeoutError):
            return failures.timeout(mid_stream=mid_stream)
        if isinstance(exc, openai.APIConnectionError):
            return failures.connection(exc, mid_stream=mid_stream)
        if isinstance(exc, openai.APIResponseValidationError):
            return failures.bad_response("the body does not match the API's schema")
        if isinstance(exc, openai.APIError):  # an error event in a stream
            return failures.in_stream("server", {"error": exc.body})
        if isinstance(exc, TRANSPORT_ERRORS):
            return failures.transport(exc, mid_stream=mid_stream)
        if isinstance(exc, json.JSONDecodeError):
            return failures.bad_response("the body is not valid JSON")
        return failures.bad_response(f"unexpected content ({type(exc).__name__}: {exc})")


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _StreamedTurn:
    """What a stream told so far: text, tool calls by index, finish reason and usage."""

    started: bool = False
    text: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    finish: str | None = None
    usage: Usage = field(default_factory=Usage)

    def add(self, chunk: ChatCompletionChunk) -> str:
        """Take in one chunk; return its text."""
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        text = ""
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta.content:
                text = delta.content
                self.text.append(text)
            for piece in delta.tool_calls or []:
                call = self.calls.setdefault(piece.index, _PartialCall())
                call.id = piece.id or call.id
                if piece.function is not None:
                    call.name = piece.function.name or call.name
                    call.arguments.append(piece.function.arguments or "")
            if choice.finish_reason:
                self.finish = choice.finish_reason
        return text

    def response(self, failures: Failures) -> ModelResponse:
        if self.finish is None:
            raise failures.error("connection", "the stream ended before the answer was complete")
        calls = [
            ToolCall(c.id, c.name, parse_arguments("".join(c.arguments), c.name, failures))
            for _, c in sorted(self.calls.items())
        ]
        reply = Message("assistant", "".join(self.text), tool_calls=calls)
        reason = finish_reason(self.finish, has_calls=bool(calls))
        return ModelResponse(reply, self.usage, reason, failures.ref)


def _usage(usage: CompletionUsage | None) -> Usage:
    if usage is None:
        return Usage()
    return Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0)


def _tool(tool: ToolDef) -> ChatCompletionFunctionToolParam:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _message(message: Message, failures: Failures) -> ChatCompletionMessageParam:
    role = message.role
    if role == "system":
        return {"role": "system", "content": message.content}
    if role == "user":
        return {"role": "user", "content": message.content}
    if role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id or "",
            "content": message.content,
        }
    if role == "assistant":
        if not message.tool_calls:
            return {"role": "assistant", "content": message.content}
        calls: list[ChatCompletionMessageFunctionToolCallParam] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
        return {"role": "assistant", "content": message.content or None, "tool_calls": calls}
    raise failures.error(
        "bad_request", f"message role '{role}' is not one of system, user, assistant, tool"
    )
