"""Garbage into the team built-in tools: whatever a model sends, each tool gives a JSON
result or one StepError naming it, never another exception, in a team, in a swarm turn and
outside both."""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentgo_cli.errors import StepError
from agentgo_cli.store.sqlite import SQLiteJobStore
from agentgo_cli.teams.context import TEAM, Handoff, TeamContext
from agentgo_cli.teams.tools import team_tools
from agentgo_cli.tools.registry import Builtin, ToolContext

texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "\ud800", "a\udfff", "triage", "billing", "open", "done", "x" * 600]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and infinities too
    texts,
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3)
)
keys = st.sampled_from(["k", "draft/1", "é"]) | st.text(min_size=1, max_size=8)
VERSION = {"expected_version": st.integers(0, 3)}
SENSIBLE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "blackboard_get": ({"key": keys}, {}),
    "blackboard_read": ({"key": keys}, {}),
    "blackboard_put": ({"key": keys, "value": values}, VERSION),
    "blackboard_write": ({"key": keys, "value": values}, VERSION),
    "blackboard_list": ({}, {"prefix": st.sampled_from(["", "k", "draft/"])}),
    "todo_add": ({}, {"task": values, "tasks": st.lists(values, max_size=3)}),
    "todo_claim": ({}, {"ttl_seconds": st.floats(0.001, 1.0)}),
    "todo_complete": (
        {"id": st.integers(0, 4), "result": values, "claim": st.text(min_size=1, max_size=4)},
        {},
    ),
    "todo_list": ({}, {"status": st.sampled_from(["open", "claimed", "done", None])}),
    "handoff": ({"to": st.sampled_from(["billing", "triage", "sales"])}, {"message": texts}),
}
"""Per tool: the arguments it needs and may take, with values that make sense (the value
of a write, a task, a result: any JSON-like garbage, NaN and lone surrogates included)."""
NAMES = sorted(SENSIBLE)
FIELDS = sorted({field for needed, more in SENSIBLE.values() for field in (*needed, *more)})


def spoiled(args: dict[str, Any], dropped: set[str], changed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k not in dropped} | changed


def arguments(name: str) -> st.SearchStrategy[Any]:
    """Sensible arguments of a tool, with a field dropped or given garbage now and then, or
    garbage that is not even an object."""
    needed, more = SENSIBLE[name]
    return st.one_of(
        st.builds(
            spoiled,
            st.fixed_dictionaries(needed, optional=more),
            st.sets(st.sampled_from(FIELDS), max_size=1),
            st.dictionaries(st.sampled_from(FIELDS) | texts, values, max_size=2),
        ),
        values,
    )


contexts = st.sampled_from(["team", "swarm", "job", "nowhere"])


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.Runner, dict[str, Builtin]]]:
    """One store and one event loop for every example."""
    runner = asyncio.Runner()
    store = SQLiteJobStore(tmp_path_factory.mktemp("fuzz") / "jobs.db")
    runner.run(store.start())
    tools = team_tools(store)
    assert sorted(tools) == NAMES
    try:
        yield runner, tools
    finally:
        runner.run(store.close())
        runner.close()


def where(kind: str) -> tuple[TeamContext | None, ToolContext]:
    job = ToolContext(job_id="j-1", step_id="s", attempt=1, idempotency_key="j-1:s")
    if kind in ("team", "swarm"):
        handoff = Handoff() if kind == "swarm" else None
        team = TeamContext(
            "desk", "triage", "team:t", "t", "w", "p", ("triage", "billing"), handoff
        )
        return team, job
    if kind == "job":
        return None, job
    return None, ToolContext(job_id="", step_id="s", attempt=1, idempotency_key="k")


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=100, deadline=None)
@given(data=st.data(), kind=contexts)
def test_garbage_arguments_give_a_result_or_a_step_error(
    running: tuple[asyncio.Runner, dict[str, Builtin]], name: str, data: st.DataObject, kind: str
) -> None:
    runner, tools = running
    args = data.draw(arguments(name), label="args")
    team, ctx = where(kind)

    async def call() -> Any:
        assert TEAM.get() is team
        return await tools[name](args, ctx)

    context = contextvars.copy_context()  # the runner would run it in a context of its own
    context.run(TEAM.set, team)
    try:
        result = runner.run(call(), context=context)
    except StepError as exc:
        assert str(exc).startswith(f"{name}: "), exc
    else:
        json.dumps(result, allow_nan=False)  # what the agent loop gives the model back
