"""The team built-in tools against a real store: the blackboard's versioned writes (a stale
write is a result the model can act on), the aliases of the first manifests, the todo list's
claims (a stolen claim cannot complete), handoff's checks, and the job's own blackboard that
agents outside a team share, as ``agentgo run`` shows it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from agentgo_cli.errors import StepError
from agentgo_cli.store import JobStore
from agentgo_cli.teams.context import TEAM, Handoff, TeamContext
from agentgo_cli.teams.tools import team_tools
from agentgo_cli.tools.registry import Builtin, ToolContext, ToolRegistry
from tests.engine.engine_tools import CONFIG, workflow

CTX = ToolContext(job_id="j-1", step_id="desk.task", attempt=1, idempotency_key="j-1:desk.task")
NO_JOB = ToolContext(job_id="", step_id="text.write", attempt=1, idempotency_key="t:s")
ROLES = ("triage", "billing", "support")


def team(role: str = "writer", worker: str = "w1", handoff: Handoff | None = None) -> TeamContext:
    return TeamContext(
        team="desk",
        role=role,
        board="team:j-1:desk",
        todos="j-1:desk",
        worker=worker,
        principal="user:alice",
        roles=ROLES,
        handoff=handoff,
    )


@contextmanager
def playing(context: TeamContext | None) -> Iterator[None]:
    """TEAM set to ``context`` for the block, as the coordinator sets it around a turn."""
    token = TEAM.set(context)
    try:
        yield
    finally:
        TEAM.reset(token)


@pytest.fixture
def tools(store: JobStore) -> dict[str, Builtin]:
    return team_tools(store)


async def call(tools: dict[str, Builtin], name: str, ctx: ToolContext = CTX, **args: Any) -> Any:
    return await tools[name](args, ctx)


async def error(tools: dict[str, Builtin], name: str, ctx: ToolContext = CTX, **args: Any) -> str:
    with pytest.raises(StepError) as info:
        await tools[name](args, ctx)
    return str(info.value)


# -- blackboard -------------------------------------------------------------------------------


async def test_a_stale_write_is_a_conflict_to_read_and_retry(
    tools: dict[str, Builtin], store: JobStore
) -> None:
    with playing(team()):
        absent = await call(tools, "blackboard_get", key="outline")
        assert absent == {"key": "outline", "value": None, "version": 0}
        assert await call(tools, "blackboard_put", key="outline", value=["intro"]) == {
            "ok": True,
            "version": 1,
        }
    with playing(team(role="editor", worker="w2")):  # a blind write: expected_version is 0
        clash = await call(tools, "blackboard_put", key="outline", value=["mine"])
        assert clash == {
            "ok": False,
            "conflict": True,
            "current_version": 1,
            "current_value": ["intro"],
            "hint": "read it with blackboard_get and write again with expected_version=1",
        }
        read = await call(tools, "blackboard_get", key="outline")
        assert read == {"key": "outline", "value": ["intro"], "version": 1}
        merged = [*read["value"], "mine"]
        again = {"key": "outline", "value": merged, "expected_version": read["version"]}
        assert await tools["blackboard_put"](again, CTX) == {"ok": True, "version": 2}
        late = {"key": "outline", "value": ["late"], "expected_version": 1}
        assert (await tools["blackboard_put"](late, CTX))["current_value"] == merged
    entry = await store.board_get("team:j-1:desk", "outline")
    assert entry is not None
    assert (entry.value, entry.version, entry.updated_by) == (merged, 2, "user:alice/editor")


async def test_a_write_with_a_version_to_a_missing_key_says_it_is_missing(
    tools: dict[str, Builtin],
) -> None:
    with playing(team()):
        clash = await call(tools, "blackboard_put", key="new", value=1, expected_version=3)
    assert clash["current_version"] == 0
    assert clash["current_value"] is None
    assert clash["hint"].endswith("expected_version=0")


async def test_list_by_prefix(tools: dict[str, Builtin]) -> None:
    with playing(team()):
        for key in ("draft/1", "draft/2", "notes"):
            await call(tools, "blackboard_put", key=key, value=key.upper())
        drafts = await call(tools, "blackboard_list", prefix="draft/")
        everything = await call(tools, "blackboard_list")
    assert drafts == [
        {"key": "draft/1", "value": "DRAFT/1", "version": 1, "updated_by": "user:alice/writer"},
        {"key": "draft/2", "value": "DRAFT/2", "version": 1, "updated_by": "user:alice/writer"},
    ]
    assert [e["key"] for e in everything] == ["draft/1", "draft/2", "notes"]


async def test_read_and_write_are_aliases_of_get_and_put(tools: dict[str, Builtin]) -> None:
    with playing(team()):
        assert await call(tools, "blackboard_write", key="k", value="v") == {
            "ok": True,
            "version": 1,
        }
        assert await call(tools, "blackboard_get", key="k") == await call(
            tools, "blackboard_read", key="k"
        )
        clash = await call(tools, "blackboard_write", key="k", value="w")
    assert clash["hint"] == "read it with blackboard_read and write again with expected_version=1"
    registry = ToolRegistry({})
    for alias, name in (
        ("blackboard_read", "blackboard_get"),
        ("blackboard_write", "blackboard_put"),
    ):
        assert registry.definition(alias).parameters == registry.definition(name).parameters
        assert registry.definition(alias).description == f"Alias of {name}."


async def test_teams_have_separate_boards(tools: dict[str, Builtin]) -> None:
    other = TeamContext("desk", "writer", "team:j-2:desk", "j-2:desk", "w9", "user:bob")
    with playing(team()):
        await call(tools, "blackboard_put", key="k", value="ours")
    with playing(other):
        assert await call(tools, "blackboard_get", key="k") == {
            "key": "k",
            "value": None,
            "version": 0,
        }


async def test_outside_a_team_the_job_has_its_own_board_and_list(
    tools: dict[str, Builtin], store: JobStore
) -> None:
    assert await call(tools, "blackboard_put", key="k", value=[1]) == {"ok": True, "version": 1}
    entry = await store.board_get("job:j-1", "k")
    assert entry is not None
    assert (entry.value, entry.updated_by) == ([1], "agent/j-1/desk.task")
    assert await call(tools, "todo_add", task="t") == {"ids": [0]}
    assert [t.task for t in await store.todos("job:j-1")] == ["t"]


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("blackboard_get", "blackboard"),
        ("blackboard_list", "blackboard"),
        ("todo_claim", "todo list"),
        ("todo_list", "todo list"),
    ],
)
async def test_with_neither_team_nor_job_there_is_nothing_to_use(
    tools: dict[str, Builtin], name: str, what: str
) -> None:
    assert await error(tools, name, NO_JOB, key="k") == (
        f"{name}: no {what} here: the agent runs neither in a team nor in a job "
        "(a team's agents share the team's, the steps of a job the job's)"
    )


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        (
            "blackboard_get",
            {},
            "blackboard_get: 'key' is required (a string of 1 to 512 characters)",
        ),
        (
            "blackboard_get",
            {"key": ""},
            "blackboard_get: 'key' must be a string of 1 to 512 characters, not a string",
        ),
        (
            "blackboard_read",
            {"key": 7},
            "blackboard_read: 'key' must be a string of 1 to 512 characters, not a number",
        ),
        (
            "blackboard_put",
            {"key": "k"},
            "blackboard_put: 'value' is required (any JSON value)",
        ),
        (
            "blackboard_put",
            {"key": "k", "value": 1, "expected_version": -1},
            "blackboard_put: 'expected_version' must be a whole number from 0 to "
            "9007199254740992, not a number",
        ),
        (
            "blackboard_put",
            {"key": "k", "value": 1, "expected_version": True},
            "blackboard_put: 'expected_version' must be a whole number from 0 to "
            "9007199254740992, not a boolean",
        ),
        (
            "blackboard_list",
            {"prefix": None},
            "blackboard_list: 'prefix' must be a string of at most 512 characters, not null",
        ),
        (
            "blackboard_put",
            {"key": "k\ud800", "value": 1},
            "blackboard_put: 'key' must be a string of 1 to 512 characters, "
            "not a string with an unpaired surrogate",
        ),
        ("todo_add", {}, "todo_add: give either 'task' (one todo) or 'tasks' (a list of them)"),
        (
            "todo_add",
            {"task": 1, "tasks": [2]},
            "todo_add: give either 'task' (one todo) or 'tasks' (a list of them)",
        ),
        ("todo_add", {"tasks": "a"}, "todo_add: 'tasks' must be a list, not a string"),
        (
            "todo_claim",
            {"ttl_seconds": 0},
            "todo_claim: 'ttl_seconds' must be a number of seconds above 0, at most 86400, "
            "not a number",
        ),
        (
            "todo_complete",
            {"id": 0, "result": 1},
            "todo_complete: 'claim' is required (a string of 1 to 512 characters)",
        ),
        (
            "todo_list",
            {"status": "finished"},
            "todo_list: 'status' must be 'open' or 'claimed' or 'done' (or null), not a string",
        ),
    ],
)
async def test_arguments_that_make_no_sense_are_step_errors(
    tools: dict[str, Builtin], name: str, args: dict[str, Any], message: str
) -> None:
    with playing(team()):
        assert await error(tools, name, **args) == message


async def test_a_value_that_is_not_json_is_a_step_error(tools: dict[str, Builtin]) -> None:
    with playing(team()):
        message = await error(tools, "blackboard_put", key="k", value=float("nan"))
        assert message.startswith(
            "blackboard_put: cannot store the value of 'k' on board 'team:j-1:desk' as JSON: "
        )
        assert (await error(tools, "todo_add", tasks=[float("inf")])).startswith("todo_add: ")
        assert await call(tools, "blackboard_get", key="k") == {
            "key": "k",
            "value": None,
            "version": 0,
        }


async def test_the_registry_checks_the_schema_then_runs_the_tool(store: JobStore) -> None:
    registry = ToolRegistry({})
    registry.builtins.update(team_tools(store))
    with playing(team()):
        assert await registry.call("blackboard_put", {"key": "k", "value": 2}, CTX) == {
            "ok": True,
            "version": 1,
        }
        with pytest.raises(StepError) as info:
            await registry.call("todo_complete", {"id": "zero"}, CTX)
    assert str(info.value).startswith("tool 'todo_complete': invalid arguments: ")


# -- todos ------------------------------------------------------------------------------------


async def test_the_todo_flow(tools: dict[str, Builtin]) -> None:
    with playing(team(worker="w1")):
        assert await call(tools, "todo_add", task={"topic": "chips"}) == {"ids": [0]}
        assert await call(tools, "todo_add", tasks=["b", "c"]) == {"ids": [1, 2]}
        claimed = await call(tools, "todo_claim")
        assert claimed["id"] == 0
        assert claimed["task"] == {"topic": "chips"}
        assert isinstance(claimed["claim"], str)
        done = {"id": 0, "result": "chips are fast", "claim": claimed["claim"]}
        assert await tools["todo_complete"](done, CTX) == {"ok": True}
        assert await tools["todo_complete"](done, CTX) == {
            "ok": False,
            "reason": "todo 0 is already done",
        }
        second = await call(tools, "todo_claim")
        assert second["id"] == 1
        assert await call(tools, "todo_list") == [
            {
                "id": 0,
                "task": {"topic": "chips"},
                "status": "done",
                "owner": "w1",
                "result": "chips are fast",
            },
            {"id": 1, "task": "b", "status": "claimed", "owner": "w1", "result": None},
            {"id": 2, "task": "c", "status": "open", "owner": None, "result": None},
        ]
        assert [t["id"] for t in await call(tools, "todo_list", status="open")] == [2]
        assert [t["id"] for t in await call(tools, "todo_list", status=None)] == [0, 1, 2]
        await call(tools, "todo_claim")
        assert await call(tools, "todo_claim") == {"id": None, "message": "nothing to claim"}
        assert await error(tools, "todo_complete", id=9, result=1, claim="x") == (
            "todo_complete: there is no todo 9 (todo_list shows them)"
        )


async def test_a_stolen_claim_cannot_complete(tools: dict[str, Builtin]) -> None:
    with playing(team(worker="slow")):
        await call(tools, "todo_add", tasks=["only"])
        slow = await call(tools, "todo_claim", ttl_seconds=0.05)
        assert await call(tools, "todo_claim") == {"id": None, "message": "nothing to claim"}
    await asyncio.sleep(0.1)
    with playing(team(worker="fast")):
        fast = await call(tools, "todo_claim")
        assert (fast["id"], fast["task"]) == (0, "only")
        assert fast["claim"] != slow["claim"]
    with playing(team(worker="slow")):
        assert await call(tools, "todo_complete", id=0, result="late", claim=slow["claim"]) == {
            "ok": False,
            "reason": "your claim on todo 0 expired and another worker took it; "
            "leave it and claim another",
        }
    with playing(team(worker="fast")):
        assert await call(tools, "todo_complete", id=0, result="won", claim=fast["claim"]) == {
            "ok": True
        }
        (todo,) = await call(tools, "todo_list")
    assert (todo["owner"], todo["result"]) == ("fast", "won")


async def test_a_released_claim_says_claim_it_again(
    tools: dict[str, Builtin], store: JobStore
) -> None:
    with playing(team()):
        await call(tools, "todo_add", task="t")
        claimed = await call(tools, "todo_claim")
        assert await store.todo_release("j-1:desk") == 1
        assert await call(tools, "todo_complete", id=0, result=1, claim=claimed["claim"]) == {
            "ok": False,
            "reason": "your claim on todo 0 was released; claim it again with todo_claim",
        }


# -- handoff ----------------------------------------------------------------------------------


async def test_handoff_records_the_decision(tools: dict[str, Builtin]) -> None:
    holder = Handoff()
    with playing(team(role="triage", handoff=holder)):
        answer = await call(tools, "handoff", to="billing", message="a refund")
    assert answer == {"handoff": "billing"}
    assert (holder.to, holder.message) == ("billing", "a refund")


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("triage", "handoff: 'triage' is your own role; hand off to one of: billing, support"),
        (
            "sales",
            "handoff: 'sales' is no role of team 'desk'; hand off to one of: billing, support",
        ),
    ],
)
async def test_handoff_names_the_roles_it_may_go_to(
    tools: dict[str, Builtin], to: str, message: str
) -> None:
    holder = Handoff()
    with playing(team(role="triage", handoff=holder)):
        assert await error(tools, "handoff", to=to) == message
    assert holder.to is None


@pytest.mark.parametrize("context", [None, team(role="triage")], ids=["no-team", "no-swarm"])
async def test_handoff_only_in_a_swarm_turn(
    tools: dict[str, Builtin], context: TeamContext | None
) -> None:
    with playing(context):
        assert await error(tools, "handoff", to="billing") == (
            "handoff: only an agent taking its turn in a swarm team can hand off"
        )


# -- agents outside a team, through agentgo run -----------------------------------------------

AGENTS = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: scribe}
spec:
  model: scripted:demo
  tools: [blackboard_put]
  output_schema: {type: object}
  script:
    - tool: {name: blackboard_put, args: {key: outline, value: {parts: [intro]}}}
    - reply: "${{ input }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: blind}
spec:
  model: scripted:demo
  tools: [blackboard_write]
  output_schema: {type: object}
  script:
    - tool: {name: blackboard_write, args: {key: outline, value: {parts: [mine]}}}
    - reply: "${{ input }}"
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: careful}
spec:
  model: scripted:demo
  tools: [blackboard_put, blackboard_get]
  output_schema: {type: object}
  script:
    - tool:
        name: blackboard_put
        args: {key: outline, value: {parts: [intro, body]}, expected_version: 1}
    - tool: {name: blackboard_get, args: {key: outline}}
    - reply: "${{ input }}"
"""

STEPS = """
steps:
  - {id: write, agent: scribe, prompt: go}
  - {id: clash, agent: blind, prompt: go}
  - {id: merge, agent: careful, prompt: go}
outputs:
  write: ${{ steps.write.output }}
  clash: ${{ steps.clash.output }}
  merge: ${{ steps.merge.output }}
"""


def test_agents_of_a_job_share_its_blackboard(write: Callable[[str, str], Path]) -> None:
    write("agentgo.yaml", CONFIG)
    write("m/agents.yaml", AGENTS)
    workflow(write, STEPS)
    result = CliRunner().invoke(app, ["run", "wf", "-o", "json"], catch_exceptions=False)
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout)["outputs"] == {
        "write": {"ok": True, "version": 1},
        "clash": {
            "ok": False,
            "conflict": True,
            "current_version": 1,
            "current_value": {"parts": ["intro"]},
            "hint": "read it with blackboard_read and write again with expected_version=1",
        },
        "merge": {"key": "outline", "value": {"parts": ["intro", "body"]}, "version": 2},
    }
