"""The tool registry: definitions for models, argument and result checks, python runtime."""

from __future__ import annotations

import pytest

from agentgo_cli.errors import StepError
from agentgo_cli.llm.base import ToolDef
from agentgo_cli.manifests.checks import BUILTIN_TOOLS
from agentgo_cli.manifests.loader import load_text
from agentgo_cli.manifests.manifest_set import check_document
from agentgo_cli.manifests.models import ToolManifest
from agentgo_cli.tools import ToolContext, ToolRegistry
from tests.helpers import Reason

CTX = ToolContext(job_id="job-1", step_id="count", attempt=2, idempotency_key="job-1:count")


def _tool(name: str, runtime: str, extra: str = "") -> str:
    return f"""
apiVersion: agentgo/v1
kind: Tool
metadata: {{name: {name}, description: "The {name} tool."}}
spec:
  runtime: {runtime}
{extra}"""


_WORDS = """\
  description: Count the words of a text.
  input: {type: object, required: [text], properties: {text: {type: string}}}
  output: {type: object, required: [words], properties: {words: {type: integer}}}
"""

TOOLS = "---".join(
    [
        _tool(
            "wordcount",
            '{type: python, entrypoint: "tests.tools.sample_tools:count_words"}',
            _WORDS,
        ),
        _tool(
            "bad-count", '{type: python, entrypoint: "tests.tools.sample_tools:bad_count"}', _WORDS
        ),
        _tool("shout", '{type: python, entrypoint: "tests.tools.sample_tools:shout"}'),
        _tool("where", '{type: python, entrypoint: "tests.tools.sample_tools:where"}'),
        _tool("where-async", '{type: python, entrypoint: "tests.tools.sample_tools:where_async"}'),
        _tool("remember", '{type: python, entrypoint: "tests.tools.sample_tools:remember"}'),
        _tool("fail", '{type: python, entrypoint: "tests.tools.sample_tools:fail"}'),
        _tool("slow", '{type: python, entrypoint: "tests.tools.sample_tools:slow", timeout: 50ms}'),
        _tool(
            "timeout-inside",
            '{type: python, entrypoint: "tests.tools.sample_tools:timeout_inside", timeout: 5s}',
        ),
        _tool("missing-module", '{type: python, entrypoint: "tests.tools.nowhere:count"}'),
        _tool("missing-function", '{type: python, entrypoint: "tests.tools.sample_tools:nope"}'),
        _tool(
            "not-callable", '{type: python, entrypoint: "tests.tools.sample_tools:NOT_CALLABLE"}'
        ),
        _tool("boxed", "{type: container, image: busybox:latest}", _WORDS),
        _tool("remote", '{type: http, url: "https://api.example.com/v1/x"}'),
        _tool("http-get", "{type: builtin}"),
        _tool("fetch", "{type: builtin, name: http_get}"),
    ]
)


def load_tools(text: str) -> dict[str, ToolManifest]:
    """Validate YAML text into Tool manifests, failing the test on any manifest error."""
    loaded = load_text(text, "tools.yaml")
    assert loaded.errors == []
    tools: dict[str, ToolManifest] = {}
    for doc in loaded.documents:
        manifest, errors = check_document(doc)
        assert errors == []
        assert isinstance(manifest, ToolManifest)
        tools[manifest.name] = manifest
    return tools


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return ToolRegistry(load_tools(TOOLS))


# -- definitions -----------------------------------------------------------------------------


def test_definition_of_a_tool_manifest(registry: ToolRegistry) -> None:
    assert registry.definition("wordcount") == ToolDef(
        name="wordcount",
        description="Count the words of a text.",
        parameters={
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string"}},
        },
    )


def test_definition_falls_back_to_the_metadata_description(registry: ToolRegistry) -> None:
    assert registry.definition("shout") == ToolDef("shout", "The shout tool.", {"type": "object"})


@pytest.mark.parametrize("name", BUILTIN_TOOLS)
def test_builtin_tools_have_a_definition_without_a_manifest(
    registry: ToolRegistry, name: str
) -> None:
    definition = registry.definition(name)
    assert definition.name == name
    assert definition.description
    assert definition.parameters["type"] == "object"
    if name in ("call_agent", "route_intent"):  # what the model must give is spelled out
        assert definition.parameters["required"]


def test_definition_of_an_unknown_tool(registry: ToolRegistry) -> None:
    with pytest.raises(StepError) as info:
        registry.definition("wordcounter")
    assert str(info.value) == "unknown tool 'wordcounter'"


def test_membership(registry: ToolRegistry) -> None:
    assert "wordcount" in registry
    assert "call_agent" in registry
    assert "nothing" not in registry


# -- python runtime --------------------------------------------------------------------------


async def test_sync_tool(registry: ToolRegistry) -> None:
    assert await registry.call("wordcount", {"text": "three little words"}, CTX) == {"words": 3}


async def test_async_tool(registry: ToolRegistry) -> None:
    assert await registry.call("shout", {"text": "hi"}, CTX) == {"text": "HI"}


async def test_sync_tools_run_in_a_worker_thread_and_async_ones_on_the_loop(
    registry: ToolRegistry,
) -> None:
    assert await registry.call("where", {}, CTX) == {"main_thread": False}
    assert await registry.call("where-async", {}, CTX) == {"main_thread": True}


async def test_tool_with_ctx_receives_the_call_context(registry: ToolRegistry) -> None:
    assert await registry.call("remember", {"note": "n"}, CTX) == {
        "note": "n",
        "job_id": "job-1",
        "step_id": "count",
        "attempt": 2,
        "idempotency_key": "job-1:count",
    }


async def test_ctx_is_not_taken_from_the_arguments(registry: ToolRegistry) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("remember", {"note": "n", "ctx": "mine"}, CTX)
    assert str(info.value) == "tool 'remember': argument 'ctx' is reserved for the call context"


async def test_entrypoint_is_imported_once(registry: ToolRegistry) -> None:
    from tests.tools import sample_tools

    await registry.call("wordcount", {"text": "a"}, CTX)
    original = sample_tools.count_words
    try:
        sample_tools.count_words = lambda text: {"words": -1}
        assert await registry.call("wordcount", {"text": "a b"}, CTX) == {"words": 2}
    finally:
        sample_tools.count_words = original


async def test_a_tool_exception_becomes_a_step_error(registry: ToolRegistry) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("fail", {"reason": "disk full"}, CTX)
    assert str(info.value) == "tool 'fail' raised ValueError: disk full"
    assert isinstance(info.value.__cause__, ValueError)


async def test_unexpected_arguments_are_reported_as_raised(registry: ToolRegistry) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("shout", {"text": "a", "loud": True}, CTX)
    assert str(info.value) == (
        "tool 'shout' raised TypeError: shout() got an unexpected keyword argument 'loud'"
    )


async def test_timeout(registry: ToolRegistry) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("slow", {}, CTX)
    assert str(info.value) == "tool 'slow' timed out after 50ms"


async def test_a_timeout_error_raised_by_the_tool_is_not_the_tools_timeout(
    registry: ToolRegistry,
) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("timeout-inside", {}, CTX)
    assert str(info.value) == "tool 'timeout-inside' raised TimeoutError: upstream took too long"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "missing-module",
            "tool 'missing-module': cannot import entrypoint 'tests.tools.nowhere:count': "
            "ModuleNotFoundError: No module named 'tests.tools.nowhere'",
            id="module",
        ),
        pytest.param(
            "missing-function",
            "tool 'missing-function': cannot import entrypoint 'tests.tools.sample_tools:nope': "
            "module 'tests.tools.sample_tools' has no attribute 'nope'",
            id="function",
        ),
        pytest.param(
            "not-callable",
            "tool 'not-callable': cannot import entrypoint "
            "'tests.tools.sample_tools:NOT_CALLABLE': 'NOT_CALLABLE' is not callable",
            id="not-callable",
        ),
    ],
)
async def test_import_failures(registry: ToolRegistry, name: str, message: str) -> None:
    with pytest.raises(StepError) as info:
        await registry.call(name, {}, CTX)
    assert str(info.value) == message


# -- schemas ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param({}, Reason("tool 'wordcount': invalid arguments: ", "'text'"), id="missing"),
        pytest.param(
            {"text": 3}, Reason("tool 'wordcount': invalid arguments: text: ", "3"), id="type"
        ),
    ],
)
async def test_invalid_arguments(
    registry: ToolRegistry, args: dict[str, object], message: Reason
) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("wordcount", args, CTX)
    assert str(info.value) == message


async def test_invalid_result(registry: ToolRegistry) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("bad-count", {"text": "a b"}, CTX)
    assert str(info.value) == Reason("tool 'bad-count': invalid result: words: ", "'many'")


async def test_nested_paths_in_schema_errors() -> None:
    extra = """\
  input:
    type: object
    properties:
      items: {type: array, items: {type: object, required: [id]}}
"""
    registry = ToolRegistry(
        load_tools(
            _tool("shout", '{type: python, entrypoint: "tests.tools.sample_tools:shout"}', extra)
        )
    )
    with pytest.raises(StepError) as info:
        await registry.call("shout", {"items": [{"id": 1}, {}]}, CTX)
    assert str(info.value) == Reason("tool 'shout': invalid arguments: items[1]: ", "'id'")


# -- runtimes of later versions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "boxed",
            "tool 'boxed': the container runtime comes with the sandbox feature and is not "
            "available in this version",
            id="container",
        ),
        pytest.param(
            "remote",
            "tool 'remote': the http runtime comes with the connectors feature and is not "
            "available in this version",
            id="http",
        ),
        pytest.param(
            "http-get",
            "tool 'http-get': the built-in tool 'http_get' comes with the connectors feature "
            "and is not available in this version",
            id="builtin-manifest",
        ),
        pytest.param(
            "fetch",
            "tool 'fetch': the built-in tool 'http_get' comes with the connectors feature "
            "and is not available in this version",
            id="builtin-named",
        ),
        pytest.param(
            "call_agent",
            "tool 'call_agent': the built-in tool 'call_agent' comes with the A2A feature "
            "and is not available in this version",
            id="builtin-without-manifest",
        ),
        pytest.param("nothing", "unknown tool 'nothing'", id="unknown"),
    ],
)
async def test_unavailable_runtimes(registry: ToolRegistry, name: str, message: str) -> None:
    with pytest.raises(StepError) as info:
        await registry.call(name, {"text": "a"}, CTX)
    assert str(info.value) == message


async def test_arguments_are_checked_before_the_runtime(registry: ToolRegistry) -> None:
    with pytest.raises(StepError) as info:
        await registry.call("boxed", {}, CTX)
    assert str(info.value) == Reason("tool 'boxed': invalid arguments: ", "'text'")
