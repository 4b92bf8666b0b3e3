"""The three real providers against local servers that speak their wire formats.

Each test drives the official SDK end to end over loopback: what it sends (the request body
the server recorded) and what it makes of the answer, errors included.
"""

from __future__ import annotations

import base64
import email.utils
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

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
from agentgo_cli.llm.providers._common import retry_after
from agentgo_cli.llm.providers.openai_chat import OpenAIChat
from tests.llm.conftest import FAKE_KEY, MakeProvider
from tests.llm.wire_servers import (
    ANTHROPIC,
    GEMINI,
    OPENAI,
    Call,
    Dialect,
    Event,
    Reply,
    Stream,
    WireServer,
)

ASK = [Message("system", "Be brief."), Message("user", "Weather in Paris and Oslo?")]
WEATHER = ToolDef(
    "get_weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CALLS = [Call("get_weather", {"city": "Paris"}, "c1"), Call("get_weather", {"city": "Oslo"}, "c2")]
"""Gemini's canned calls carry no id (its usual answer); the others' do."""


def ref(wire: WireServer) -> str:
    return f"{wire.dialect.name}:{wire.dialect.model}"


def calls_for(dialect: Dialect) -> list[Call]:
    return [Call(c.name, c.args) for c in CALLS] if dialect is GEMINI else CALLS


def ids_for(dialect: Dialect) -> list[str]:
    return ["call_1", "call_2"] if dialect is GEMINI else ["c1", "c2"]


async def collect(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in stream]


async def failure(
    client: Any, *, stream: bool = False, messages: list[Message] | None = None
) -> ProviderError:
    """The ProviderError a turn raises (fails the test when it raises none)."""
    messages = messages or ASK
    with pytest.raises(ProviderError) as caught:
        if stream:
            await collect(client.stream(messages, tools=[], params={}))
        else:
            await client.complete(messages, tools=[], params={})
    return caught.value


# -- text, tools, streams ----------------------------------------------------------------


async def test_text_completion(wire: WireServer, provider: MakeProvider) -> None:
    wire.queue(Reply(wire.dialect.text("Sunny.", input_tokens=12, output_tokens=7)))
    response = await provider(wire).complete(ASK, tools=[], params={})

    assert response == ModelResponse(
        Message("assistant", "Sunny."), Usage(12, 7), "stop", ref(wire), 0.0
    )
    request = wire.last
    assert wire.dialect.key_of(request.headers) == FAKE_KEY
    assert "tools" not in request.body


@pytest.mark.parametrize(
    ("dialect", "path"),
    [
        (OPENAI, "/v1/chat/completions"),
        (ANTHROPIC, "/v1/messages"),
        (GEMINI, "/v1beta/models/gemini-test:generateContent"),
    ],
    ids=["openai", "anthropic", "gemini"],
)
async def test_request_carries_the_system_message_in_the_provider_field(
    dialect: Dialect, path: str, wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(dialect)
    await provider(wire).complete(ASK, tools=[], params={})

    request = wire.last
    assert request.path == path
    body = request.body
    if dialect is OPENAI:
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris and Oslo?"},
        ]
    elif dialect is ANTHROPIC:
        assert body["system"] == "Be brief."
        assert body["messages"] == [{"role": "user", "content": "Weather in Paris and Oslo?"}]
    else:
        assert body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
        assert body["contents"] == [
            {"role": "user", "parts": [{"text": "Weather in Paris and Oslo?"}]}
        ]


async def test_tool_call_and_the_turn_with_its_results(
    wire: WireServer, provider: MakeProvider
) -> None:
    dialect = wire.dialect
    client = provider(wire)
    wire.queue(Reply(dialect.tool_call(calls_for(dialect), input_tokens=20, output_tokens=9)))
    first = await client.complete(ASK, tools=[WEATHER], params={})

    first_id, second_id = ids_for(dialect)
    assert first.message.tool_calls == [
        ToolCall(first_id, "get_weather", {"city": "Paris"}),
        ToolCall(second_id, "get_weather", {"city": "Oslo"}),
    ]
    assert (first.finish_reason, first.usage) == ("tool_calls", Usage(20, 9))
    assert _tool_definitions(dialect, wire.last.body) == [
        {"name": "get_weather", "description": WEATHER.description, "schema": WEATHER.parameters}
    ]

    results = [
        Message("tool", '{"temp": 21}', tool_call_id=first_id, name="get_weather"),
        Message("tool", '{"temp": 5}', tool_call_id=second_id, name="get_weather"),
    ]
    second = await client.complete([*ASK, first.message, *results], tools=[WEATHER], params={})

    assert second.message.content == "Hello!"
    assert _tool_turns(wire.last.body, dialect) == _expected_tool_turns(dialect)


def _tool_definitions(dialect: Dialect, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool definitions a request carried, checked to be in the provider's shape."""
    if dialect is OPENAI:
        assert all(tool["type"] == "function" for tool in body["tools"])
        functions = [tool["function"] for tool in body["tools"]]
        return [
            {"name": f["name"], "description": f["description"], "schema": f["parameters"]}
            for f in functions
        ]
    if dialect is ANTHROPIC:
        return [
            {"name": t["name"], "description": t["description"], "schema": t["input_schema"]}
            for t in body["tools"]
        ]
    [tool] = body["tools"]
    return [
        {
            "name": d["name"],
            "description": d["description"],
            # the SDK sends this one field in snake case; the API takes either
            "schema": d.get("parametersJsonSchema", d.get("parameters_json_schema")),
        }
        for d in tool["functionDeclarations"]
    ]


def _tool_turns(body: dict[str, Any], dialect: Dialect) -> list[Any]:
    """The request's last turns: the assistant's calls and the results that follow."""
    turns: list[Any] = body["contents"] if dialect is GEMINI else body["messages"]
    return turns[-3:] if dialect is OPENAI else turns[-2:]


def _expected_tool_turns(dialect: Dialect) -> list[Any]:
    """The assistant's calls and the results, as each API wants them (all results of a
    turn in one message for Anthropic and Gemini)."""
    if dialect is OPENAI:
        return [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"c{n}",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": json.dumps({"city": c})},
                    }
                    for n, c in ((1, "Paris"), (2, "Oslo"))
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21}'},
            {"role": "tool", "tool_call_id": "c2", "content": '{"temp": 5}'},
        ]
    if dialect is ANTHROPIC:
        return [
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "c1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "c2",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "c1", "content": '{"temp": 21}'},
                    {"type": "tool_result", "tool_use_id": "c2", "content": '{"temp": 5}'},
                ],
            },
        ]
    return [  # the ids were made up here, so they are not sent back
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
                {"functionResponse": {"name": "get_weather", "response": {"temp": 5}}},
            ],
        },
    ]


async def test_stream_yields_text_deltas_then_the_whole_turn(
    wire: WireServer, provider: MakeProvider
) -> None:
    pieces = ["It is ", "sunny ", "today."]
    wire.queue(Stream(wire.dialect.text_stream(pieces, input_tokens=11, output_tokens=6)))
    events = await collect(provider(wire).stream(ASK, tools=[], params={}))

    assert events == [
        TextDelta("It is "),
        TextDelta("sunny "),
        TextDelta("today."),
        ModelResponse(Message("assistant", "It is sunny today."), Usage(11, 6), "stop", ref(wire)),
    ]
    if wire.dialect is OPENAI:
        assert wire.last.body["stream_options"] == {"include_usage": True}


async def test_stream_passes_each_piece_on_as_it_arrives(
    wire: WireServer, provider: MakeProvider
) -> None:
    wire.queue(Stream(wire.dialect.text_stream(["a", "b", "c"], delay=0.15)))
    arrived: list[float] = []
    async for event in provider(wire).stream(ASK, tools=[], params={}):
        if isinstance(event, TextDelta):
            arrived.append(time.monotonic())

    assert len(arrived) == 3
    assert arrived[-1] - arrived[0] >= 0.25  # not held back until the stream ended


async def test_stream_of_tool_calls(wire: WireServer, provider: MakeProvider) -> None:
    dialect = wire.dialect
    wire.queue(Stream(dialect.tool_stream(calls_for(dialect), input_tokens=8, output_tokens=4)))
    events = await collect(provider(wire).stream(ASK, tools=[WEATHER], params={}))

    first_id, second_id = ids_for(dialect)
    calls = [
        ToolCall(first_id, "get_weather", {"city": "Paris"}),
        ToolCall(second_id, "get_weather", {"city": "Oslo"}),
    ]
    assert events == [
        ModelResponse(Message("assistant", "", calls), Usage(8, 4), "tool_calls", ref(wire))
    ]


async def test_stream_closed_early_leaves_the_client_usable(
    wire: WireServer, provider: MakeProvider
) -> None:
    client = provider(wire)
    wire.queue(Stream(wire.dialect.text_stream(["a", "b", "c"])))
    stream = client.stream(ASK, tools=[], params={})
    assert await anext(stream) == TextDelta("a")
    await stream.aclose()  # type: ignore[attr-defined]

    assert (await client.complete(ASK, tools=[], params={})).message.content == "Hello!"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"openai": "length", "anthropic": "max_tokens", "gemini": "MAX_TOKENS"}, "length"),
        ({"openai": "content_filter", "anthropic": "refusal", "gemini": "SAFETY"}, None),
    ],
    ids=["length", "own-reason"],
)
async def test_finish_reason_is_normalized(
    wire: WireServer, provider: MakeProvider, raw: dict[str, str], expected: str | None
) -> None:
    reason = raw[wire.dialect.name]
    wire.queue(Reply(wire.dialect.text(finish=reason)))
    response = await provider(wire).complete(ASK, tools=[], params={})
    assert response.finish_reason == (expected or reason.lower())


# -- params ------------------------------------------------------------------------------


async def test_params_are_passed_under_the_provider_names(
    wire: WireServer, provider: MakeProvider
) -> None:
    params = {"temperature": 0.2, "max_tokens": 64, "top_p": 0.9, "stop": ["END"]}
    await provider(wire).complete(ASK, tools=[], params=params)

    body = wire.last.body
    if wire.dialect is OPENAI:
        sent = {k: body.get(k) for k in ("temperature", "max_completion_tokens", "top_p", "stop")}
        assert sent == {
            "temperature": 0.2,
            "max_completion_tokens": 64,
            "top_p": 0.9,
            "stop": ["END"],
        }
        assert "max_tokens" not in body
    elif wire.dialect is ANTHROPIC:
        sent = {k: body.get(k) for k in ("temperature", "max_tokens", "top_p", "stop_sequences")}
        assert sent == {
            "temperature": 0.2,
            "max_tokens": 64,
            "top_p": 0.9,
            "stop_sequences": ["END"],
        }
    else:
        assert body["generationConfig"] == {
            "temperature": 0.2,
            "maxOutputTokens": 64,
            "topP": 0.9,
            "stopSequences": ["END"],
        }


@pytest.mark.parametrize("dialect", [ANTHROPIC, GEMINI], ids=lambda d: d.name)
async def test_a_stop_param_that_is_no_list_of_strings(
    dialect: Dialect, wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(dialect)
    with pytest.raises(ProviderError) as caught:
        await provider(wire).complete(ASK, tools=[], params={"stop": 5})

    assert (caught.value.kind, str(caught.value)) == (
        "bad_request",
        f"{ref(wire)}: params: stop: expected a string or a list of strings",
    )
    assert wire.requests == []


async def test_anthropic_max_tokens_defaults_to_1024(
    wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(ANTHROPIC)
    await provider(wire).complete(ASK, tools=[], params={"stop": "END"})
    assert (wire.last.body["max_tokens"], wire.last.body["stop_sequences"]) == (1024, ["END"])


async def test_openai_compatible_servers_keep_max_tokens_and_need_no_key(
    wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(OPENAI)
    client = provider(wire, provider="ollama", key=None)
    assert isinstance(client, OpenAIChat)

    response = await client.complete(ASK, tools=[], params={"max_tokens": 32})

    assert response.model == "ollama:gpt-test"
    assert wire.last.body["max_tokens"] == 32
    assert wire.last.headers["authorization"] == "Bearer ollama"


async def test_gemini_refuses_an_unknown_param_before_sending(
    wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(GEMINI)
    with pytest.raises(ProviderError) as caught:
        await provider(wire).complete(ASK, tools=[], params={"temprature": 0.2})

    assert caught.value.kind == "bad_request"
    assert str(caught.value).startswith("gemini:gemini-test: params: temprature: ")
    assert wire.requests == []


# -- Gemini's call ids and thought signatures ---------------------------------------------


async def test_gemini_ids_it_gives_are_kept_and_sent_back(
    wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(GEMINI)
    client = provider(wire)
    wire.queue(Reply(GEMINI.tool_call([Call("get_weather", {"city": "Paris"}, "g-7")])))
    first = await client.complete(ASK, tools=[WEATHER], params={})
    assert first.message.tool_calls == [ToolCall("g-7", "get_weather", {"city": "Paris"})]

    result = Message("tool", "21 degrees", tool_call_id="g-7")  # no name: found by id
    await client.complete([*ASK, first.message, result], tools=[WEATHER], params={})

    call_turn, result_turn = wire.last.body["contents"][-2:]
    assert call_turn["parts"][0]["functionCall"]["id"] == "g-7"
    assert result_turn["parts"] == [
        {
            "functionResponse": {
                "id": "g-7",
                "name": "get_weather",
                "response": {"output": "21 degrees"},
            }
        }
    ]


async def test_gemini_made_up_ids_follow_the_calls_of_the_conversation(
    wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(GEMINI)
    earlier = Message("assistant", tool_calls=[ToolCall("call_1", "get_weather", {"city": "Rome"})])
    answered = Message("tool", "{}", tool_call_id="call_1", name="get_weather")
    wire.queue(Reply(GEMINI.tool_call([Call("get_weather", {"city": "Oslo"})])))

    response = await provider(wire).complete([*ASK, earlier, answered], tools=[WEATHER], params={})

    assert [c.id for c in response.message.tool_calls] == ["call_2"]


async def test_gemini_thought_signature_goes_back_with_its_call(
    wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(GEMINI)
    client = provider(wire)
    body = GEMINI.tool_call([Call("get_weather", {"city": "Paris"})])
    signature = base64.b64encode(b"opaque-signature").decode()
    body["candidates"][0]["content"]["parts"][0]["thoughtSignature"] = signature
    wire.queue(Reply(body))
    first = await client.complete(ASK, tools=[WEATHER], params={})

    result = Message("tool", "{}", tool_call_id="call_1", name="get_weather")
    await client.complete([*ASK, first.message, result], tools=[WEATHER], params={})

    [part] = wire.last.body["contents"][-2]["parts"]
    assert part["thoughtSignature"] == signature


async def test_gemini_blocked_prompt(wire_server: Any, provider: MakeProvider) -> None:
    wire = wire_server(GEMINI)
    wire.queue(Reply({"promptFeedback": {"blockReason": "SAFETY"}}))
    error = await failure(provider(wire))
    assert (error.kind, str(error)) == (
        "bad_request",
        "gemini:gemini-test: prompt blocked (SAFETY)",
    )


async def test_anthropic_input_counts_the_prompt_cache(
    wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(ANTHROPIC)
    body = ANTHROPIC.text(input_tokens=10, output_tokens=5)
    body["usage"] |= {"cache_read_input_tokens": 100, "cache_creation_input_tokens": 20}
    wire.queue(Reply(body))
    response = await provider(wire).complete(ASK, tools=[], params={})
    assert response.usage == Usage(130, 5)


# -- errors ------------------------------------------------------------------------------

STATUS_ERRORS = [
    (429, "rate_limited", "rate limited"),
    (500, "server", "server error"),
    (503, "server", "server error"),
    (529, "server", "overloaded"),
    (408, "timeout", "request timed out"),
    (401, "auth", "authentication failed"),
    (403, "auth", "permission denied"),
    (400, "bad_request", "request rejected"),
    (404, "bad_request", "request rejected"),
]


@pytest.mark.parametrize(
    ("status", "kind", "label"), STATUS_ERRORS, ids=[str(status) for status, _, _ in STATUS_ERRORS]
)
async def test_http_errors_have_a_kind_and_one_clear_line(
    wire: WireServer, provider: MakeProvider, status: int, kind: str, label: str
) -> None:
    wire.queue(wire.dialect.error_reply(status, "went wrong"))
    error = await failure(provider(wire))

    assert str(error) == f"{ref(wire)}: {label} (HTTP {status}): went wrong"
    assert (error.kind, error.status, error.retry_after) == (kind, status, None)
    assert (error.provider, error.model) == (wire.dialect.name, wire.dialect.model)
    assert len(wire.requests) == 1  # the SDK does not retry


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
async def test_rate_limit_carries_retry_after(
    wire: WireServer, provider: MakeProvider, stream: bool
) -> None:
    wire.queue(wire.dialect.error_reply(429, "slow down", {"Retry-After": "2"}))
    error = await failure(provider(wire), stream=stream)

    assert str(error) == f"{ref(wire)}: rate limited (HTTP 429), retry after 2s: slow down"
    assert (error.kind, error.retry_after, error.retryable) == ("rate_limited", 2.0, True)


async def test_retry_after_in_milliseconds(wire: WireServer, provider: MakeProvider) -> None:
    wire.queue(wire.dialect.error_reply(529, "busy", {"retry-after-ms": "250"}))
    error = await failure(provider(wire))
    assert (error.kind, error.retry_after) == ("server", 0.25)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "7", "Retry-After-Ms": "40"}, 0.04),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-1"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    wait = retry_after({"Retry-After": when})
    assert wait is not None and 27 <= wait <= 30
    assert retry_after({"Retry-After": email.utils.formatdate(0, usegmt=True)}) == 0.0


async def test_error_event_in_a_stream(wire: WireServer, provider: MakeProvider) -> None:
    dialect = wire.dialect
    event = {
        OPENAI: Event({"error": {"message": "overloaded", "type": "server_error"}}),
        ANTHROPIC: Event(
            {"type": "error", "error": {"type": "overloaded_error", "message": "overloaded"}},
            "error",
        ),
        GEMINI: Event({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}),
    }[dialect]
    wire.queue(Stream([*first_piece(dialect), event]))
    error = await failure(provider(wire), stream=True)

    assert error.kind == "server"
    if dialect is GEMINI:  # google-genai reports the code the error event names
        assert str(error) == f"{ref(wire)}: server error (HTTP 503): overloaded"
    else:
        assert str(error) == f"{ref(wire)}: error event in the stream: overloaded"


@pytest.mark.parametrize(
    "body",
    [
        Reply('{"choices": [{"index": 0, "mess'),
        Reply("<html><body>Bad gateway</body></html>", content_type="text/html"),
    ],
    ids=["truncated-json", "html"],
)
async def test_a_body_that_does_not_parse(
    wire: WireServer, provider: MakeProvider, body: Reply
) -> None:
    wire.queue(body)
    error = await failure(provider(wire))
    assert (error.kind, str(error)) == (
        "bad_response",
        f"{ref(wire)}: bad response: the body is not valid JSON",
    )


async def test_a_body_without_the_answer(wire: WireServer, provider: MakeProvider) -> None:
    wire.queue(Reply({"id": "x", "unexpected": True}))
    error = await failure(provider(wire))
    missing = {"openai": "choices", "anthropic": "content", "gemini": "candidates"}
    assert (error.kind, str(error)) == (
        "bad_response",
        f"{ref(wire)}: bad response: no {missing[wire.dialect.name]} in the body",
    )


async def test_a_stream_event_that_does_not_parse(wire: WireServer, provider: MakeProvider) -> None:
    name = "content_block_delta" if wire.dialect is ANTHROPIC else None
    wire.queue(Stream([*first_piece(wire.dialect), Event("{not json", name)]))
    error = await failure(provider(wire), stream=True)
    assert (error.kind, str(error)) == (
        "bad_response",
        f"{ref(wire)}: bad response: the body is not valid JSON",
    )


async def test_malformed_tool_arguments(wire_server: Any, provider: MakeProvider) -> None:
    wire = wire_server(OPENAI)
    wire.queue(Reply(OPENAI.tool_call([Call("get_weather", '{"city": ', "c1")])))
    error = await failure(provider(wire))
    assert (error.kind, str(error)) == (
        "bad_response",
        "openai:gpt-test: bad response: the arguments of tool call 'get_weather' are not "
        'valid JSON: {"city":',
    )


@pytest.mark.parametrize("dialect", [OPENAI, ANTHROPIC], ids=lambda d: d.name)
async def test_malformed_tool_arguments_in_a_stream(
    dialect: Dialect, wire_server: Any, provider: MakeProvider
) -> None:
    wire = wire_server(dialect)
    wire.queue(Stream(dialect.tool_stream([Call("get_weather", '{"city": [}', "c1")])))
    error = await failure(provider(wire), stream=True)
    assert (error.kind, str(error)) == (
        "bad_response",
        f"{ref(wire)}: bad response: the arguments of tool call 'get_weather' are not "
        'valid JSON: {"city": [}',
    )


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
async def test_connection_refused(
    wire: WireServer, provider: MakeProvider, dead_url: str, stream: bool
) -> None:
    base_url = dead_url + wire.dialect.prefix
    error = await failure(provider(wire, base_url=base_url), stream=stream)

    assert error.kind == "connection"
    assert str(error).startswith(f"{ref(wire)}: cannot connect to {base_url}: ")
    assert wire.requests == []


async def test_no_answer_in_time(wire: WireServer, provider: MakeProvider) -> None:
    wire.queue(Reply(wire.dialect.text(), delay=2.0))
    started = time.monotonic()
    error = await failure(provider(wire, timeout=0.2))

    assert (error.kind, str(error)) == ("timeout", f"{ref(wire)}: no answer within 0.2s")
    assert time.monotonic() - started < 1.0


def first_piece(dialect: Dialect) -> list[Event]:
    """A text stream's events up to its first piece of text ('Hel'): no end."""
    events = dialect.text_stream(["Hel", "lo"])
    upto = next(i for i, e in enumerate(events) if '"Hel"' in json.dumps(e.data))
    return events[: upto + 1]


async def test_a_stream_that_stalls(wire: WireServer, provider: MakeProvider) -> None:
    wire.queue(Stream(first_piece(wire.dialect), stall=2.0))
    seen: list[StreamEvent] = []
    with pytest.raises(ProviderError) as caught:
        async for event in provider(wire, timeout=0.2).stream(ASK, tools=[], params={}):
            seen.append(event)

    assert seen == [TextDelta("Hel")]  # what came before the stall was passed on
    error = caught.value
    assert (error.kind, str(error)) == ("stalled", f"{ref(wire)}: stream stalled: no data for 0.2s")


async def test_a_stream_cut_short(wire: WireServer, provider: MakeProvider) -> None:
    wire.queue(Stream(first_piece(wire.dialect)))
    error = await failure(provider(wire), stream=True)
    assert (error.kind, str(error)) == (
        "connection",
        f"{ref(wire)}: the stream ended before the answer was complete",
    )


# -- the key -----------------------------------------------------------------------------


async def test_the_key_never_shows(wire: WireServer, provider: MakeProvider, dead_url: str) -> None:
    dialect = wire.dialect
    client = provider(wire)
    echo = f"Incorrect API key provided: {FAKE_KEY}"
    wire.queue(
        dialect.error_reply(401, echo),
        dialect.error_reply(429, echo, {"Retry-After": "1"}),
        Stream([*first_piece(dialect), Event("{" + FAKE_KEY)]),
    )
    errors = [
        await failure(client),
        await failure(client),
        await failure(client, stream=True),
        await failure(provider(wire, base_url=f"{dead_url}{dialect.prefix}")),
    ]

    assert dialect.key_of(wire.last.headers) == FAKE_KEY  # the key was used
    assert "***" in str(errors[0])
    shown = [str(e) for e in errors] + [repr(e) for e in errors]
    shown += [repr(client), str(client), repr(client.endpoint)]
    assert not [text for text in shown if FAKE_KEY in text]


# -- lazy imports ------------------------------------------------------------------------


def test_importing_providers_does_not_import_the_sdks() -> None:
    script = textwrap.dedent(
        """
        import sys
        import agentgo_cli.llm.providers

        def sdks():
            return sorted(
                m for m in sys.modules
                if m.split(".")[0] in ("openai", "anthropic") or m.startswith("google.genai")
            )

        assert not sdks(), sdks()
        from agentgo_cli.llm.providers import Endpoint, make_client
        make_client(Endpoint("openai", None, "http://127.0.0.1:9/v1"), "gpt-test")
        assert "openai" in sdks() and "anthropic" not in sdks(), sdks()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
