"""The agent loop: model turns and tool calls with a scripted model and real python tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from agentgo_cli.engine.agent import AgentResult, run_agent
from agentgo_cli.errors import StepError
from agentgo_cli.llm import Message, ModelResponse, ScriptedClient, ToolCall, ToolDef, Usage
from agentgo_cli.manifests.loader import load_text
from agentgo_cli.manifests.manifest_set import check_document
from agentgo_cli.manifests.models import AgentManifest, ToolManifest
from agentgo_cli.tools import ToolContext, ToolRegistry
from tests.helpers import Reason

CTX = ToolContext(job_id="job-1", step_id="ask", attempt=1, idempotency_key="job-1:ask")


TOOLS = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: wordcount}
spec:
  description: Count the words of a text.
  input: {type: object, required: [text], properties: {text: {type: string}}}
  output: {type: object, properties: {words: {type: integer}}}
  runtime: {type: python, entrypoint: "tests.tools.sample_tools:count_words"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: remember}
spec:
  runtime: {type: python, entrypoint: "tests.tools.sample_tools:remember"}
---
apiVersion: agentgo/v1
kind: Tool
metadata: {name: fail}
spec:
  runtime: {type: python, entrypoint: "tests.tools.sample_tools:fail"}
"""


def manifests(text: str) -> list[Any]:
    loaded = load_text(text, "m.yaml")
    assert loaded.errors == []
    out = []
    for doc in loaded.documents:
        manifest, errors = check_document(doc)
        assert errors == [], [str(e) for e in errors]
        out.append(manifest)
    return out


def agent(spec: str) -> AgentManifest:
    (manifest,) = manifests(
        "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: helper}\nspec:\n" + spec
    )
    assert isinstance(manifest, AgentManifest)
    return manifest


@pytest.fixture(scope="module")
def tools() -> ToolRegistry:
    return ToolRegistry({m.name: m for m in manifests(TOOLS) if isinstance(m, ToolManifest)})


@dataclass
class Recording:
    """A scripted client that remembers what each turn was given."""

    inner: ScriptedClient
    seen: list[tuple[list[Message], list[ToolDef], dict[str, Any]]] = field(default_factory=list)

    async def complete(
        self, messages: list[Message], *, tools: list[ToolDef], params: dict[str, Any]
    ) -> ModelResponse:
        self.seen.append((list(messages), tools, params))
        return await self.inner.complete(messages, tools=tools, params=params)


async def run(
    manifest: AgentManifest,
    tools: ToolRegistry,
    *,
    prompt: str | None = "Count: one two three",
    input: Any = None,
) -> tuple[AgentResult, Recording]:
    client = Recording(ScriptedClient(manifest.spec, manifest.spec.model_ref.model))
    result = await run_agent(
        manifest, prompt=prompt, input=input, tools=tools, ctx=CTX, client=client
    )
    return result, client


COUNTER = """\
  model:
    ref: scripted:demo
    params: {temperature: 0.2}
  instructions: Count words with the tool.
  tools: [wordcount]
  usage: {input_tokens: 10, output_tokens: 5}
  script:
    - tool: {name: wordcount, args: {text: "${{ input }}"}}
    - reply: "Done."
"""


async def test_calls_a_tool_then_answers(tools: ToolRegistry) -> None:
    result, client = await run(agent(COUNTER), tools)
    assert result == AgentResult(
        output="Done.", text="Done.", usage=Usage(20, 10), turns=2, tool_calls=1
    )
    first, second = client.seen
    definition = ToolDef(
        "wordcount",
        "Count the words of a text.",
        {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
    )
    assert first == (
        [Message("system", "Count words with the tool."), Message("user", "Count: one two three")],
        [definition],
        {"temperature": 0.2},
    )
    assert second[0][2:] == [
        Message(
            "assistant",
            tool_calls=[ToolCall("call_1", "wordcount", {"text": "Count: one two three"})],
        ),
        Message("tool", '{"words": 4}', tool_call_id="call_1", name="wordcount"),
    ]


async def test_user_message_joins_prompt_and_input(tools: ToolRegistry) -> None:
    echo = agent("  model: scripted:echo\n")
    cases: list[tuple[str | None, Any, str]] = [
        ("Summarize.", None, "Summarize."),
        ("Summarize.", "a text", "Summarize.\n\na text"),
        ("Summarize.", {"topic": "°C", "n": [1]}, 'Summarize.\n\n{"topic": "°C", "n": [1]}'),
        (None, ["x"], '["x"]'),
        (None, None, ""),
    ]
    for prompt, value, text in cases:
        result, client = await run(echo, tools, prompt=prompt, input=value)
        assert client.seen[0][0] == [Message("user", text)]
        assert result.output == text
        assert client.seen[0][1:] == ([], {})


async def test_instructions_may_use_the_input(tools: ToolRegistry) -> None:
    helper = agent('  model: scripted:echo\n  instructions: "Write about ${{ input.topic }}."\n')
    _, client = await run(helper, tools, prompt="Go.", input={"topic": "tea"})
    assert client.seen[0][0][0] == Message("system", "Write about tea.")


async def test_when_regex_routes_the_turn(tools: ToolRegistry) -> None:
    router = agent(
        """\
  model: scripted:demo
  tools: [wordcount]
  script:
    - when: "(?i)weather"
      reply: "Sunny, 21 °C."
    - tool: {name: wordcount, args: {text: "${{ input }}"}}
    - when: '"words": 2\\b'
      reply: "Two words."
    - reply: "Some words."
"""
    )
    weather, _ = await run(router, tools, prompt="What's the Weather?")
    assert (weather.output, weather.turns, weather.tool_calls) == ("Sunny, 21 °C.", 1, 0)
    counted, _ = await run(router, tools, prompt="two words")
    assert (counted.output, counted.turns, counted.tool_calls) == ("Two words.", 2, 1)
    other, _ = await run(router, tools, prompt="three more words")
    assert other.output == "Some words."


async def test_echoes_the_prompt_when_the_script_runs_out(tools: ToolRegistry) -> None:
    short = agent(
        """\
  model: scripted:demo
  tools: [wordcount]
  script:
    - tool: {name: wordcount, args: {text: "${{ input }}"}}
"""
    )
    result, _ = await run(short, tools, prompt="say it back")
    assert (result.output, result.turns, result.tool_calls) == ("say it back", 2, 1)


JSON_AGENT = """\
  model: scripted:demo
  output_schema:
    type: object
    required: [summary]
    properties: {{summary: {{type: string}}}}
  script:
    - reply: {reply}
"""


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param('{summary: "Three sources agree."}', id="object"),
        pytest.param('"{\\"summary\\": \\"Three sources agree.\\"}"', id="json-text"),
        pytest.param('"```json\\n{\\"summary\\": \\"Three sources agree.\\"}\\n```"', id="fenced"),
    ],
)
async def test_output_schema_gives_the_parsed_object(tools: ToolRegistry, reply: str) -> None:
    result, _ = await run(agent(JSON_AGENT.format(reply=reply)), tools)
    assert result.output == {"summary": "Three sources agree."}
    assert isinstance(result.text, str)


MUST_MATCH = "agent 'helper' must answer JSON matching its output_schema: "


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        pytest.param(
            '"Three sources agree."',
            f"{MUST_MATCH}the answer is not JSON (Expecting value: line 1 column 1 (char 0))",
            id="not-json",
        ),
        pytest.param("{summary: 3}", Reason(f"{MUST_MATCH}summary: ", "3"), id="wrong-type"),
        pytest.param("{text: x}", Reason(MUST_MATCH, "'summary'"), id="missing"),
        pytest.param("[1]", Reason(MUST_MATCH, "[1]"), id="not-an-object"),
    ],
)
async def test_output_schema_mismatch(
    tools: ToolRegistry, reply: str, message: str | Reason
) -> None:
    with pytest.raises(StepError) as info:
        await run(agent(JSON_AGENT.format(reply=reply)), tools)
    assert str(info.value) == message


async def test_max_turns_exceeded(tools: ToolRegistry) -> None:
    looping = agent(
        """\
  model: scripted:demo
  tools: [remember]
  max_turns: 2
  script:
    - tool: {name: remember, args: {note: a}}
    - tool: {name: remember, args: {note: b}}
    - reply: "too late"
"""
    )
    with pytest.raises(StepError) as info:
        await run(looping, tools)
    assert str(info.value) == "agent 'helper' did not finish within max_turns=2"


async def test_the_last_allowed_turn_may_answer(tools: ToolRegistry) -> None:
    exact = agent(
        """\
  model: scripted:demo
  tools: [remember]
  max_turns: 2
  script:
    - tool: {name: remember, args: {note: a}}
    - reply: "in time"
"""
    )
    result, _ = await run(exact, tools)
    assert (result.output, result.turns) == ("in time", 2)


async def test_the_last_allowed_turn_may_end_the_invocation_with_its_tool(
    tools: ToolRegistry,
) -> None:
    """A call of an ``ends_on`` tool (a swarm's handoff) needs no turn after it: an agent
    whose last allowed turn makes one ends there instead of failing on max_turns."""
    ender = agent(
        """\
  model: scripted:demo
  tools: [remember]
  max_turns: 1
  script:
    - tool: {name: remember, args: {note: a}}
"""
    )
    result = await run_agent(
        ender,
        prompt="go",
        input=None,
        tools=tools,
        ctx=CTX,
        client=ScriptedClient(ender.spec, "demo"),
        ends_on=frozenset({"remember"}),
    )
    assert (result.ended_by, result.turns, result.tool_calls) == ("remember", 1, 1)


async def test_token_budget_exceeded(tools: ToolRegistry) -> None:
    spender = agent(
        """\
  model: scripted:demo
  tools: [wordcount]
  budget: {tokens: 250}
  usage: {input_tokens: 120, output_tokens: 40}
  script:
    - tool: {name: wordcount, args: {text: "${{ input }}"}}
    - reply: "Done."
"""
    )
    with pytest.raises(StepError) as info:
        await run(spender, tools)
    assert str(info.value) == "agent 'helper' exceeded its token budget (320 > 250)"


async def test_token_budget_reached_exactly_is_fine(tools: ToolRegistry) -> None:
    exact = agent(
        "  model: scripted:demo\n  budget: {tokens: 160}\n"
        "  usage: {input_tokens: 120, output_tokens: 40}\n"
    )
    result, _ = await run(exact, tools)
    assert result.usage.total == 160


async def test_a_tool_the_agent_was_not_given_is_a_step_error(tools: ToolRegistry) -> None:
    sneaky = agent(
        """\
  model: scripted:demo
  tools: [wordcount]
  script:
    - tool: {name: remember, args: {note: x}}
"""
    )
    with pytest.raises(StepError) as info:
        await run(sneaky, tools)
    assert str(info.value) == (
        "agent 'helper' asked for tool 'remember', which is not one of its tools (wordcount)"
    )


async def test_a_tool_error_is_fed_back_to_the_model(tools: ToolRegistry) -> None:
    recovering = agent(
        """\
  model: scripted:demo
  tools: [fail, wordcount]
  script:
    - tool: {name: fail, args: {reason: disk full}}
    - when: "^error: "
      tool: {name: wordcount, args: {}}
    - when: "^error: .*invalid arguments"
      reply: "Recovered: ${{ input }}"
"""
    )
    result, client = await run(recovering, tools)
    assert result.output == Reason(
        "Recovered: error: tool 'wordcount': invalid arguments: ", "'text'"
    )
    assert (result.turns, result.tool_calls) == (3, 2)
    assert client.seen[1][0][-1] == Message(
        "tool",
        "error: tool 'fail' raised ValueError: disk full",
        tool_call_id="call_1",
        name="fail",
    )


async def test_each_tool_call_gets_its_own_idempotency_key(tools: ToolRegistry) -> None:
    twice = agent(
        """\
  model: scripted:demo
  tools: [remember]
  script:
    - tool: {name: remember, args: {note: a}}
    - tool: {name: remember, args: {note: b}}
    - reply: "ok"
"""
    )
    _, client = await run(twice, tools)
    last_messages = client.seen[-1][0]
    tool_answers = [m.content for m in last_messages if m.role == "tool"]
    assert tool_answers == [
        '{"note": "a", "job_id": "job-1", "step_id": "ask", "attempt": 1, '
        '"idempotency_key": "job-1:ask:tool-1"}',
        '{"note": "b", "job_id": "job-1", "step_id": "ask", "attempt": 1, '
        '"idempotency_key": "job-1:ask:tool-2"}',
    ]


async def test_an_unknown_tool_in_the_agent_definition(tools: ToolRegistry) -> None:
    helper = agent("  model: scripted:demo\n  tools: [nowhere]\n")
    with pytest.raises(StepError) as info:
        await run(helper, tools)
    assert str(info.value) == "unknown tool 'nowhere'"
