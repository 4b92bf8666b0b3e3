"""The offline scripted provider: which entry each turn plays, and what it answers."""

from __future__ import annotations

import asyncio
import time

import pytest

from agentgo_cli.errors import ProviderError
from agentgo_cli.llm import Client, Message, ModelResponse, ScriptedClient, ToolCall, Usage
from agentgo_cli.manifests.loader import load_text
from agentgo_cli.manifests.manifest_set import check_document
from agentgo_cli.manifests.models import AgentManifest


def agent(spec: str) -> AgentManifest:
    """A valid Agent manifest with this spec (YAML, indented by two spaces)."""
    text = "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: demo}\nspec:\n" + spec
    loaded = load_text(text, "agent.yaml")
    assert loaded.errors == []
    manifest, errors = check_document(loaded.documents[0])
    assert errors == []
    assert isinstance(manifest, AgentManifest)
    return manifest


def client(spec: str) -> ScriptedClient:
    return ScriptedClient(agent(spec).spec, "demo")


async def turn(c: ScriptedClient, *messages: Message) -> ModelResponse:
    return await c.complete(list(messages), tools=[], params={})


def user(text: str) -> Message:
    return Message("user", text)


SCRIPT = """\
  model: scripted:demo
  script:
    - when: "(?i)weather"
      reply: "Sunny, 21 °C."
    - tool: {name: wordcount, args: {text: "${{ input }}"}}
    - reply: {summary: "Three sources agree."}
"""


def test_scripted_client_is_a_client() -> None:
    assert isinstance(client(SCRIPT), Client)


async def test_entries_play_in_order_skipping_conditional_ones() -> None:
    c = client(SCRIPT)
    first = await turn(c, user("count these words"))
    assert first == ModelResponse(
        message=Message(
            "assistant",
            tool_calls=[ToolCall("call_1", "wordcount", {"text": "count these words"})],
        ),
        usage=Usage(0, 0),
        finish_reason="tool_calls",
        model="demo",
    )
    second = await turn(
        c, user("count these words"), first.message, Message("tool", '{"words": 3}')
    )
    assert second.message == Message("assistant", '{"summary": "Three sources agree."}')
    assert second.finish_reason == "stop"


async def test_when_matches_the_latest_user_message_first() -> None:
    c = client(SCRIPT)
    response = await turn(c, user("What is the WEATHER like?"))
    assert response.message.content == "Sunny, 21 °C."
    assert response.finish_reason == "stop"
    # Consumed: the next weather question falls through to the unconditional entries.
    again = await turn(c, user("and the weather tomorrow?"))
    assert again.message.tool_calls[0].name == "wordcount"


async def test_when_matches_the_latest_tool_message() -> None:
    c = client(
        """\
  model: scripted:demo
  script:
    - tool: {name: lookup, args: {}}
    - when: "not found"
      reply: "Nothing there."
    - reply: "Found it."
"""
    )
    ask = await turn(c, user("find x"))
    answer = await turn(c, user("find x"), ask.message, Message("tool", "error: not found"))
    assert answer.message.content == "Nothing there."


async def test_a_conditional_entry_that_never_matches_is_never_played() -> None:
    c = client(
        """\
  model: scripted:demo
  script:
    - when: "^never$"
      reply: "no"
    - reply: "one"
"""
    )
    assert (await turn(c, user("hello"))).message.content == "one"
    assert (await turn(c, user("again"))).message.content == "again"


async def test_echoes_the_latest_user_message_when_the_script_is_done() -> None:
    c = client(
        """\
  model: scripted:demo
  script:
    - reply: "only once"
"""
    )
    assert (await turn(c, user("first"))).message.content == "only once"
    done = await turn(c, user("the prompt"), Message("assistant", "x"), Message("tool", "result"))
    assert done.message == Message("assistant", "the prompt")
    assert done.finish_reason == "stop"


async def test_without_a_script_it_echoes() -> None:
    c = client("  model: scripted:echo\n")
    response = await turn(c, Message("system", "Be brief."), user("hello"))
    assert response.message.content == "hello"


@pytest.mark.parametrize(
    ("reply", "text"),
    [
        pytest.param('"plain text"', "plain text", id="text"),
        pytest.param("{a: 1, b: [true, null]}", '{"a": 1, "b": [true, null]}', id="object"),
        pytest.param("[1, 2]", "[1, 2]", id="list"),
        pytest.param("42", "42", id="number"),
        pytest.param("true", "true", id="bool"),
        pytest.param('"You said: ${{ input }}"', "You said: hi", id="expression"),
        pytest.param('{echo: "${{ input }}"}', '{"echo": "hi"}', id="expression-in-object"),
    ],
)
async def test_reply_text(reply: str, text: str) -> None:
    c = client(f"  model: scripted:demo\n  script:\n    - reply: {reply}\n")
    assert (await turn(c, user("hi"))).message.content == text


async def test_tool_call_ids_count_up_and_args_render_the_latest_message() -> None:
    c = client(
        """\
  model: scripted:demo
  script:
    - tool: {name: a, args: {q: "${{ input }}", n: 1}}
    - tool: {name: b, args: {whole: "${{ input }}", nested: ["<${{ input }}>"]}}
"""
    )
    first = await turn(c, user("go"))
    second = await turn(c, user("go"), first.message, Message("tool", '{"ok": true}'))
    assert first.message.tool_calls == [ToolCall("call_1", "a", {"q": "go", "n": 1})]
    assert second.message.tool_calls == [
        ToolCall("call_2", "b", {"whole": '{"ok": true}', "nested": ['<{"ok": true}>']})
    ]


async def test_usage_is_reported_per_turn() -> None:
    c = client(
        """\
  model: scripted:demo
  usage: {input_tokens: 120, output_tokens: 40}
"""
    )
    response = await turn(c, user("hi"))
    assert response.usage == Usage(120, 40)
    assert response.usage.total == 160


async def test_latency_is_simulated_per_turn() -> None:
    c = client("  model: scripted:demo\n  latency: 50ms\n")
    start = time.perf_counter()
    await turn(c, user("hi"))
    await turn(c, user("hi"))
    assert time.perf_counter() - start >= 0.1


async def test_latency_does_not_block_the_loop() -> None:
    clients = [client("  model: scripted:demo\n  latency: 200ms\n") for _ in range(20)]
    start = time.perf_counter()
    await asyncio.gather(*(turn(c, user("hi")) for c in clients))
    assert time.perf_counter() - start < 1.0


async def test_latency_never_ends_early_and_turns_share_timers() -> None:
    loop = asyncio.get_running_loop()
    timers_before = len(loop._scheduled)  # type: ignore[attr-defined]
    clients = [client("  model: scripted:demo\n  latency: 30ms\n") for _ in range(200)]
    start = loop.time()
    turns = [asyncio.ensure_future(turn(c, user("hi"))) for c in clients]
    await asyncio.sleep(0)
    # 200 turns started within a millisecond or two wait on a few shared timers.
    assert len(loop._scheduled) - timers_before <= 5  # type: ignore[attr-defined]
    ended = []
    for done in asyncio.as_completed(turns):
        await done
        ended.append(loop.time() - start)
    assert min(ended) >= 0.030
    # Waited one after another they would take 6 s; together, a loaded machine's scheduling
    # delay above the 30 ms (0.5 s was flaky when the suite ran beside other work).
    assert max(ended) < 3.0


async def test_a_cancelled_turn_leaves_the_others_alone() -> None:
    clients = [client("  model: scripted:demo\n  latency: 20ms\n") for _ in range(3)]
    turns = [asyncio.ensure_future(turn(c, user(f"hi {i}"))) for i, c in enumerate(clients)]
    await asyncio.sleep(0)
    turns[1].cancel()
    results = await asyncio.gather(*turns, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert [r.message.content for r in (results[0], results[2])] == ["hi 0", "hi 2"]


async def test_a_failing_turn_fails_when_its_latency_is_up() -> None:
    c = client(
        """\
  model: scripted:demo
  latency: 50ms
  script:
    - reply: {n: "${{ input.missing }}"}
"""
    )
    start = time.perf_counter()
    with pytest.raises(ProviderError):
        await turn(c, user("hi"))
    assert time.perf_counter() - start >= 0.05


async def test_each_client_has_its_own_state() -> None:
    spec = agent(SCRIPT).spec
    one, two = ScriptedClient(spec, "demo"), ScriptedClient(spec, "demo")
    await turn(one, user("x"))
    assert (await turn(two, user("x"))).message.tool_calls[0].id == "call_1"


async def test_a_failing_expression_in_the_script_is_a_provider_error() -> None:
    c = client(
        """\
  model: scripted:demo
  script:
    - reply: {n: "${{ input.missing }}"}
"""
    )
    with pytest.raises(ProviderError) as info:
        await turn(c, user("hi"))
    assert str(info.value) == (
        "scripted model 'demo': script entry 1: expression '${{ input.missing }}' failed: "
        "'str object' has no attribute 'missing'"
    )
