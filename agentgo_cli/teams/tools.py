"""The team built-in tools: a versioned blackboard, a todo list with claims, and handoff.

Agents use them by name in their ``tools`` (the registry holds their descriptions and
input schemas). In a role turn they work on the team's blackboard and todo list (``TEAM``);
outside a team, on the job's own (``job_context``), so that the steps of one job can share
notes; with neither (an agent called with no job), they fail saying so.

What a model can act on is a result, not an error: a stale blackboard write answers
``{"ok": false, "conflict": true, ...}`` with the current value and version, and completing
a todo whose claim was taken answers ``{"ok": false, "reason": ...}``. Arguments that make
no sense are a ``StepError`` naming the tool, which the agent loop shows to the model too.
A blind overwrite is impossible: ``expected_version`` omitted means 0, "the key must not
exist yet".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import StepError, ValueNotStorable
from agentgo_cli.store.teams import TODO_STATUSES
from agentgo_cli.teams.context import TEAM, TeamContext, job_context

if TYPE_CHECKING:
    from agentgo_cli.store.base import BoardEntry, TeamStore
    from agentgo_cli.tools.registry import Builtin, ToolContext

__all__ = ["MAX_KEY", "MAX_TTL_S", "team_tools"]

MAX_KEY = 512
"""The longest blackboard key (and prefix), in characters."""
MAX_TTL_S = 86_400.0
"""The longest claim a ``todo_claim`` may ask for (a day)."""
DEFAULT_TTL_S = 300.0
"""A claim's time to live when ``todo_claim`` is given none."""
_MAX_INT = 2**53
"""Versions and todo ids past this are no real one's (and past it JSON numbers lose
precision in many clients)."""


def team_tools(store: TeamStore) -> dict[str, Builtin]:
    """The team built-in tools by name, working on ``store``'s blackboards and todo lists.

    ``blackboard_read`` and ``blackboard_write`` are aliases of ``blackboard_get`` and
    ``blackboard_put`` (the names the first manifests used).
    """
    return {
        "blackboard_get": _board_get(store, "blackboard_get"),
        "blackboard_read": _board_get(store, "blackboard_read"),
        "blackboard_put": _board_put(store, "blackboard_put", reader="blackboard_get"),
        "blackboard_write": _board_put(store, "blackboard_write", reader="blackboard_read"),
        "blackboard_list": _board_list(store),
        "todo_add": _todo_add(store),
        "todo_claim": _todo_claim(store),
        "todo_complete": _todo_complete(store),
        "todo_list": _todo_list(store),
        "handoff": _handoff,
    }


# -- blackboard -------------------------------------------------------------------------------


def _board_get(store: TeamStore, name: str) -> Builtin:
    async def board_get(args: dict[str, Any], ctx: ToolContext) -> Any:
        key = _Args(name, args).key("key")
        entry = await store.board_get(_here(name, ctx, "blackboard").board, key)
        if entry is None:
            return {"key": key, "value": None, "version": 0}
        return {"key": key, "value": entry.value, "version": entry.version}

    return board_get


def _board_put(store: TeamStore, name: str, *, reader: str) -> Builtin:
    async def board_put(args: dict[str, Any], ctx: ToolContext) -> Any:
        given = _Args(name, args)
        key = given.key("key")
        value = given.value("value")
        expected = given.integer("expected_version", 0)
        team = _here(name, ctx, "blackboard")
        try:
            ok, entry = await store.board_put(team.board, key, value, expected, by=_writer(team))
        except ValueNotStorable as exc:
            raise StepError(f"{name}: {exc}") from None
        if ok and entry is not None:
            return {"ok": True, "version": entry.version}
        version = 0 if entry is None else entry.version
        return {
            "ok": False,
            "conflict": True,
            "current_version": version,
            "current_value": None if entry is None else entry.value,
            "hint": f"read it with {reader} and write again with expected_version={version}",
        }

    return board_put


def _board_list(store: TeamStore) -> Builtin:
    name = "blackboard_list"

    async def board_list(args: dict[str, Any], ctx: ToolContext) -> Any:
        prefix = _Args(name, args).key("prefix", "")
        entries = await store.board_list(_here(name, ctx, "blackboard").board, prefix=prefix)
        return [_entry(e) for e in entries]

    return board_list


def _entry(entry: BoardEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "value": entry.value,
        "version": entry.version,
        "updated_by": entry.updated_by,
    }


def _writer(team: TeamContext) -> str:
    """Who a write is recorded as: the principal and the role, else the claim owner (an
    agent outside a team: ``agent/<job>/<step key>``)."""
    return "/".join(part for part in (team.principal, team.role) if part) or team.worker


# -- todos ------------------------------------------------------------------------------------


def _todo_add(store: TeamStore) -> Builtin:
    name = "todo_add"

    async def todo_add(args: dict[str, Any], ctx: ToolContext) -> Any:
        given = _Args(name, args)
        if ("task" in given.args) == ("tasks" in given.args):
            raise StepError(f"{name}: give either 'task' (one todo) or 'tasks' (a list of them)")
        tasks = [given.value("task")] if "task" in given.args else given.array("tasks")
        team = _here(name, ctx, "todo list")
        try:
            added = await store.todo_add(team.todos, tasks)
        except ValueNotStorable as exc:
            raise StepError(f"{name}: {exc}") from None
        return {"ids": [todo.seq for todo in added]}

    return todo_add


def _todo_claim(store: TeamStore) -> Builtin:
    name = "todo_claim"

    async def todo_claim(args: dict[str, Any], ctx: ToolContext) -> Any:
        ttl = _Args(name, args).number("ttl_seconds", DEFAULT_TTL_S, maximum=MAX_TTL_S)
        team = _here(name, ctx, "todo list")
        todo = await store.todo_claim(team.todos, team.worker, ttl)
        if todo is None:
            return {"id": None, "message": "nothing to claim"}
        return {"id": todo.seq, "task": todo.task, "claim": todo.token}

    return todo_claim


def _todo_complete(store: TeamStore) -> Builtin:
    name = "todo_complete"

    async def todo_complete(args: dict[str, Any], ctx: ToolContext) -> Any:
        given = _Args(name, args)
        seq = given.integer("id")
        result = given.value("result")
        claim = given.key("claim")
        team = _here(name, ctx, "todo list")
        try:
            if await store.todo_complete(team.todos, seq, claim, result):
                return {"ok": True}
        except ValueNotStorable as exc:
            raise StepError(f"{name}: {exc}") from None
        todo = next((t for t in await store.todos(team.todos) if t.seq == seq), None)
        if todo is None:
            raise StepError(f"{name}: there is no todo {seq} (todo_list shows them)")
        if todo.status == "done":
            reason = f"todo {seq} is already done"
        elif todo.status == "claimed":
            reason = (
                f"your claim on todo {seq} expired and another worker took it; "
                "leave it and claim another"
            )
        else:
            reason = f"your claim on todo {seq} was released; claim it again with todo_claim"
        return {"ok": False, "reason": reason}

    return todo_complete


def _todo_list(store: TeamStore) -> Builtin:
    name = "todo_list"

    async def todo_list(args: dict[str, Any], ctx: ToolContext) -> Any:
        status = _Args(name, args).choice("status", TODO_STATUSES)
        todos = await store.todos(_here(name, ctx, "todo list").todos, status=status)
        return [
            {"id": t.seq, "task": t.task, "status": t.status, "owner": t.owner, "result": t.result}
            for t in todos
        ]

    return todo_list


# -- handoff ----------------------------------------------------------------------------------


async def _handoff(args: dict[str, Any], ctx: ToolContext) -> Any:
    """Hand a swarm's control to another role (the coordinator reads the holder after the
    turn; the agent loop ends the invocation on a successful call)."""
    name = "handoff"
    given = _Args(name, args)
    to = given.key("to")
    message = given.text("message", "")
    team = TEAM.get()
    if team is None or team.handoff is None:
        raise StepError(f"{name}: only an agent taking its turn in a swarm team can hand off")
    others = [role for role in team.roles if role != team.role]
    if to == team.role or to not in others:
        why = "is your own role" if to == team.role else f"is no role of team '{team.team}'"
        roles = ", ".join(others) or "none"
        raise StepError(f"{name}: '{to}' {why}; hand off to one of: {roles}")
    team.handoff.to = to
    team.handoff.message = message
    return {"handoff": to}


# -- where and what -----------------------------------------------------------------------------


def _here(name: str, ctx: ToolContext, what: str) -> TeamContext:
    """The team context of this call: the role turn's, else the job's own."""
    team = TEAM.get()
    if team is not None:
        return team
    if ctx.job_id:
        return job_context(ctx.job_id, ctx.step_id, "", "agent")
    raise StepError(
        f"{name}: no {what} here: the agent runs neither in a team nor in a job "
        "(a team's agents share the team's, the steps of a job the job's)"
    )


_REQUIRED: Any = object()
"""The default of a field that must be given."""


class _Args:
    """A tool's arguments, read field by field; StepError naming the tool and the field for
    a field missing or of the wrong type (the registry checks the input schema first; this
    is what a direct caller, or a schema the model was lax about, meets)."""

    def __init__(self, tool: str, args: Any) -> None:
        if not isinstance(args, Mapping):
            raise StepError(f"{tool}: the arguments must be an object")
        self.tool = tool
        self.args: Mapping[str, Any] = args

    def _get(self, field: str, default: Any, check: Callable[[Any], bool], want: str) -> Any:
        if field not in self.args:
            if default is _REQUIRED:
                raise StepError(f"{self.tool}: '{field}' is required ({want})")
            return default
        value = self.args[field]
        if not check(value):
            raise StepError(f"{self.tool}: '{field}' must be {want}, not {_kind(value)}")
        return value

    def value(self, field: str) -> Any:
        """Any JSON value (null too); required."""
        return self._get(field, _REQUIRED, lambda v: True, "any JSON value")

    def text(self, field: str, default: Any = _REQUIRED) -> str:
        """A string that can be stored (no unpaired surrogates)."""
        text: str = self._get(field, default, _is_text, "a string")
        return text

    def key(self, field: str, default: Any = _REQUIRED) -> str:
        """A non-empty string of at most ``MAX_KEY`` characters (a prefix may be empty)."""
        want = f"a string of 1 to {MAX_KEY} characters"
        if default == "":
            want = f"a string of at most {MAX_KEY} characters"
        key: str = self._get(
            field,
            default,
            lambda v: _is_text(v) and (len(v) > 0 or default == "") and len(v) <= MAX_KEY,
            want,
        )
        return key

    def integer(self, field: str, default: Any = _REQUIRED) -> int:
        """A whole number from 0 to ``_MAX_INT`` (``3.0`` is 3, as JSON Schema has it)."""
        number: float = self._get(
            field,
            default,
            lambda v: type(v) in (int, float) and 0 <= v <= _MAX_INT and float(v).is_integer(),
            f"a whole number from 0 to {_MAX_INT}",
        )
        return int(number)

    def number(self, field: str, default: float, *, maximum: float) -> float:
        """A number above 0, up to ``maximum``."""
        number: float = self._get(
            field,
            default,
            lambda v: type(v) in (int, float) and math.isfinite(v) and 0 < v <= maximum,
            f"a number of seconds above 0, at most {maximum:g}",
        )
        return float(number)

    def array(self, field: str) -> list[Any]:
        """A list; required."""
        items: list[Any] = self._get(field, _REQUIRED, lambda v: isinstance(v, list), "a list")
        return list(items)

    def choice(self, field: str, choices: tuple[str, ...]) -> str | None:
        """One of ``choices``, or null / absent (None)."""
        want = " or ".join(f"'{c}'" for c in choices) + " (or null)"
        chosen: str | None = self._get(field, None, lambda v: v is None or v in choices, want)
        return chosen


def _is_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate (JSON's "\ud800"): no store takes it
        return False
    return True


def _kind(value: Any) -> str:
    """A JSON value's type, in JSON's words, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string" if _is_text(value) else "a string with an unpaired surrogate"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
