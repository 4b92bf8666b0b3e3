"""The Gemini API (generateContent) through the ``google-genai`` SDK."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

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
    TRANSPORT_ERRORS,
    Failures,
    finish_reason,
    placeholder_key,
    stop_list,
)

if TYPE_CHECKING:
    from agentgo_cli.llm.providers import Endpoint

__all__ = ["GeminiContent"]

API_VERSION = "v1beta"
"""The API version with every feature used here (system instruction, function calling with
JSON Schema); google-genai 3 would otherwise pick v1."""

_CALL_ERRORS: tuple[type[Exception], ...] = (
    genai_errors.APIError,
    *TRANSPORT_ERRORS,
    ValueError,
)
"""What a call may raise: the SDK's HTTP errors, httpx's or httpx2's (the SDK does not wrap
them), JSON that does not parse and pydantic's ValidationError (both ValueErrors). The SDK
validates what it parses, so a body with fields of the wrong type fails in the call."""

_RENAMED = {"max_tokens": "max_output_tokens", "stop": "stop_sequences"}
"""Params whose Gemini name differs; the others keep theirs."""

_GENERATED_ID = re.compile(r"call_\d+")
"""The ids made up here for calls Gemini gave none: never sent back to Gemini."""

_SIGNATURES_KEPT = 256


class GeminiContent:
    """A Gemini model behind the Gemini API.

    The SDK's retries stay off (one attempt): the reliability layer retries. Gemini may give
    function calls no id; they get ``call_<n>``, numbered after the calls already in the
    conversation, and results go back by name. The thought signature Gemini attaches to a
    function call is kept and sent back with that call, as Gemini's thinking models require.
    """

    def __init__(self, endpoint: Endpoint, model: str) -> None:
        self.endpoint = endpoint
        self.model = model
        self.ref = f"{endpoint.provider}:{model}"
        self._failures = Failures(endpoint, model)
        self._signatures: dict[str, bytes] = {}
        options = types.HttpOptions(
            base_url=endpoint.base_url,
            api_version=API_VERSION,
            timeout=round(endpoint.timeout * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self._client = genai.Client(
            api_key=placeholder_key(endpoint), vertexai=False, http_options=options
        )

    def __repr__(self) -> str:
        return f"GeminiContent({self.ref!r}, base_url={self.endpoint.base_url!r})"

    async def aclose(self) -> None:
        """Close the SDK's clients (it keeps a sync and an async one) and their connections."""
        await self._client.aio.aclose()
        self._client.close()

    async def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> ModelResponse:
        """Run one model turn."""
        contents, config = self._request(messages, tools, params)
        try:
            answer = await self._client.aio.models.generate_content(
                model=self.model, contents=contents, config=config
            )
        except _CALL_ERRORS as exc:
            raise self._failure(exc, mid_stream=False) from None
        if not answer.candidates:
            raise self._no_candidates(answer)
        turn = _Turn(first_id=_calls_in(messages) + 1)
        turn.add(answer)
        return self._response(turn)

    async def stream(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        """Yield the answer's text as it arrives, then the whole turn."""
        contents, config = self._request(messages, tools, params)
        turn = _Turn(first_id=_calls_in(messages) + 1)
        try:
            chunks = await self._client.aio.models.generate_content_stream(
                model=self.model, contents=contents, config=config
            )
            try:
                async for chunk in chunks:
                    turn.started = True
                    if not chunk.candidates and chunk.prompt_feedback is not None:
                        raise self._no_candidates(chunk)
                    text = turn.add(chunk)
                    if text:
                        yield TextDelta(text)
            finally:
                aclose = getattr(chunks, "aclose", None)  # an async generator, typed as less
                if aclose is not None:
                    await aclose()
        except _CALL_ERRORS as exc:
            raise self._failure(exc, mid_stream=turn.started) from None
        if turn.finish is None:
            raise self._failures.error(
                "connection", "the stream ended before the answer was complete"
            )
        yield self._response(turn)

    def _request(
        self, messages: list[Message], tools: list[ToolDef], params: dict[str, Any]
    ) -> tuple[list[types.Content], types.GenerateContentConfig]:
        """The contents and the config: system instruction, tools (left out when there are
        none), params under Gemini's names; automatic function calling off, as the agent
        loop runs the tools."""
        settings = {_RENAMED.get(k, k): v for k, v in params.items()}
        if "stop_sequences" in settings:
            settings["stop_sequences"] = stop_list(settings["stop_sequences"], self._failures)
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        try:
            config = types.GenerateContentConfig(
                system_instruction=system or None,
                tools=[_tools(tools)] if tools else None,
                automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
                **settings,
            )
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise self._failures.error("bad_request", f"params: {where}: {error['msg']}") from None
        return self._contents(messages), config

    def _contents(self, messages: list[Message]) -> list[types.Content]:
        """User and model turns; consecutive tool results make one user turn of
        function_response parts, named after the calls they answer."""
        names = _call_names(messages)
        contents: list[types.Content] = []
        results: list[types.Part] = []
        for message in messages:
            if message.role == "tool":
                call_id = message.tool_call_id or ""
                answer = types.FunctionResponse(
                    id=_sent_id(call_id),
                    name=message.name or names.get(call_id, ""),
                    response=_result(message.content),
                )
                results.append(types.Part(function_response=answer))
                continue
            if results:
                contents.append(types.Content(role="user", parts=results))
                results = []
            if message.role == "user":
                contents.append(
                    types.Content(role="user", parts=[types.Part(text=message.content)])
                )
            elif message.role == "assistant":
                contents.append(types.Content(role="model", parts=self._model_parts(message)))
            elif message.role != "system":
                raise self._failures.error(
                    "bad_request",
                    f"message role '{message.role}' is not one of system, user, assistant, tool",
                )
        if results:
            contents.append(types.Content(role="user", parts=results))
        return contents

    def _model_parts(self, message: Message) -> list[types.Part]:
        parts = [types.Part(text=message.content)] if message.content else []
        for call in message.tool_calls:
            function_call = types.FunctionCall(
                id=_sent_id(call.id), name=call.name, args=call.arguments
            )
            signature = self._signatures.get(_signature_key(call))
            parts.append(types.Part(function_call=function_call, thought_signature=signature))
        return parts

    def _response(self, turn: _Turn) -> ModelResponse:
        for call, signature in turn.signatures:
            self._signatures[_signature_key(call)] = signature
        while len(self._signatures) > _SIGNATURES_KEPT:
            del self._signatures[next(iter(self._signatures))]
        reply = Message("assistant", "".join(turn.text), tool_calls=turn.calls)
        reason = finish_reason(turn.finish, has_calls=bool(turn.calls))
        return ModelResponse(reply, turn.usage, reason, self.ref)

    def _no_candidates(self, answer: types.GenerateContentResponse) -> ProviderError:
        """A blocked prompt (Gemini answers no candidates and says why), else a bad body."""
        feedback = answer.prompt_feedback
        blocked = feedback.block_reason if feedback is not None else None
        if blocked is not None:
            reason = getattr(blocked, "value", blocked)
            return self._failures.error("bad_request", f"prompt blocked ({reason})")
        return self._failures.bad_response("no candidates in the body")

    def _failure(self, exc: Exception, *, mid_stream: bool) -> ProviderError:
        failures = self._failures
        if isinstance(exc, genai_errors.APIError):
            response = exc.response
            headers = getattr(response, "headers", None)
            if isinstance(exc.code, int) and exc.code >= 400:
                return failures.status(exc.code, headers, exc.details)
            return failures.in_stream("server", exc.details)
        if isinstance(exc, TRANSPORT_ERRORS):
            return failures.transport(exc, mid_stream=mid_stream)
        if isinstance(exc, pydantic.ValidationError):
            return failures.bad_response("the body does not match the API's schema")
        if isinstance(exc, json.JSONDecodeError | genai_errors.UnknownApiResponseError):
            return failures.bad_response("the body is not valid JSON")
        # any other ValueError: the SDK would not build the request (a field Gemini lacks)
        return failures.error("bad_request", f"the SDK refused the request: {exc}")


@dataclass
class _Turn:
    """What the answer told so far (one body, or a stream's chunks)."""

    first_id: int
    """The number of the first id to make up (the calls so far, plus one)."""
    started: bool = False
    text: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    signatures: list[tuple[ToolCall, bytes]] = field(default_factory=list)
    finish: object = None
    usage: Usage = field(default_factory=Usage)

    def add(self, chunk: types.GenerateContentResponse) -> str:
        """Take in one body or chunk; return its text (thoughts left out)."""
        if chunk.usage_metadata is not None:  # every chunk counts the whole turn so far
            self.usage = _usage(chunk.usage_metadata)
        if not chunk.candidates:
            return ""
        candidate = chunk.candidates[0]
        if candidate.finish_reason is not None:
            self.finish = candidate.finish_reason
        content = candidate.content
        text = ""
        parts = content.parts if content is not None and content.parts else []
        for part in parts:
            if part.function_call is not None:
                self._call(part.function_call, part.thought_signature)
            elif part.text and not part.thought:
                text += part.text
        self.text.append(text)
        return text

    def _call(self, function_call: types.FunctionCall, signature: bytes | None) -> None:
        call_id = function_call.id or f"call_{self.first_id + len(self.calls)}"
        call = ToolCall(call_id, function_call.name or "", dict(function_call.args or {}))
        self.calls.append(call)
        if signature:
            self.signatures.append((call, signature))


def _usage(usage: types.GenerateContentResponseUsageMetadata) -> Usage:
    """Input counts tool-use prompts too; output counts thinking, billed as output."""
    prompt = (usage.prompt_token_count or 0) + (usage.tool_use_prompt_token_count or 0)
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return Usage(prompt, output)


def _tools(tools: list[ToolDef]) -> types.Tool:
    return types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name=t.name, description=t.description, parameters_json_schema=t.parameters
            )
            for t in tools
        ]
    )


def _result(content: str) -> dict[str, Any]:
    """A tool's answer as Gemini wants it, an object: a JSON object as it is, anything else
    under "output"."""
    try:
        value = json.loads(content)
    except ValueError:
        return {"output": content}
    return value if isinstance(value, dict) else {"output": value}


def _call_names(messages: list[Message]) -> dict[str, str]:
    """The tool name of every call id so far: Gemini needs it, a tool message may lack it."""
    return {call.id: call.name for m in messages for call in m.tool_calls}


def _calls_in(messages: list[Message]) -> int:
    return sum(len(m.tool_calls) for m in messages)


def _sent_id(call_id: str) -> str | None:
    return None if not call_id or _GENERATED_ID.fullmatch(call_id) else call_id


def _signature_key(call: ToolCall) -> str:
    return json.dumps([call.id, call.name, call.arguments], sort_keys=True, default=str)
