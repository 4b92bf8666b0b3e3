"""The tool registry: what agents see of each tool, and calling a tool by name.

A call checks the arguments against the tool's input schema, runs the tool on its runtime
and checks the result against the output schema. Every failure is a StepError that names
the tool, so the engine can record it and an agent can show it to its model.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import StepError
from agentgo_cli.llm.base import ToolDef
from agentgo_cli.manifests.checks import BUILTIN_TOOLS
from agentgo_cli.manifests.models.tool import (
    BuiltinRuntime,
    ContainerRuntime,
    HttpRuntime,
    PythonRuntime,
    ToolManifest,
)
from agentgo_cli.observer import ToolCalled
from agentgo_cli.store.teams import TODO_STATUSES
from agentgo_cli.tools._child import ImportProblem, describe, resolve

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from agentgo_cli.observer import Observer, Redactor

__all__ = ["ToolContext", "ToolRegistry", "schema_problem", "validator_for"]

_BUILTIN_DESCRIPTIONS = {
    "discover_agents": "List the agents and intents this agent may call.",
    "route_intent": "Find the best agent for an intent.",
    "call_agent": "Call another agent's intent and wait for its answer.",
    "http_get": "Fetch a URL through a connector (allowlisted hosts only).",
    "blackboard_get": (
        "Read a key of the shared blackboard (your team's, else your job's): its value and "
        "version (version 0 and value null: the key is not there)."
    ),
    "blackboard_put": (
        "Write a key of the shared blackboard if its version is still expected_version (0, "
        "the default: the key must not exist yet). A stale write writes nothing and answers "
        "ok=false with the current value and version: merge, then write again."
    ),
    "blackboard_list": "List the keys of the shared blackboard that start with a prefix.",
    "blackboard_read": "Alias of blackboard_get.",
    "blackboard_write": "Alias of blackboard_put.",
    "todo_add": "Add one todo (task) or several (tasks) to the shared todo list.",
    "todo_claim": (
        "Claim the first open todo for ttl_seconds (after that, another worker may take it); "
        "answers its id, task and claim, or id null when there is nothing to claim."
    ),
    "todo_complete": (
        "Complete a todo you claimed with its result (id and claim from todo_claim); ok=false "
        "with the reason when your claim was taken or the todo is already done."
    ),
    "todo_list": "List the todos of the shared todo list (of one status, if given).",
    "handoff": (
        "Hand the task to another role of your swarm team with a message for it; this ends "
        "your turn."
    ),
}

_BOARD_GET: dict[str, Any] = {
    "type": "object",
    "required": ["key"],
    "properties": {"key": {"type": "string", "minLength": 1}},
}
_BOARD_PUT: dict[str, Any] = {
    "type": "object",
    "required": ["key", "value"],
    "properties": {
        "key": {"type": "string", "minLength": 1},
        "value": {"description": "Any JSON value."},
        "expected_version": {
            "type": "integer",
            "minimum": 0,
            "description": "The version you read; 0 (the default): the key must not exist yet.",
        },
    },
}

_BUILTIN_INPUTS: dict[str, dict[str, Any]] = {
    "discover_agents": {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "Words to look for (optional)."}},
    },
    "route_intent": {
        "type": "object",
        "required": ["task"],
        "properties": {"task": {"type": "string", "description": "The task, in words."}},
    },
    "call_agent": {
        "type": "object",
        "required": ["intent", "input"],
        "properties": {
            "intent": {"type": "string", "description": "name, or name@range"},
            "input": {"description": "The input, matching the intent's input schema."},
            "idempotency_key": {"type": "string"},
        },
    },
    "blackboard_get": _BOARD_GET,
    "blackboard_read": _BOARD_GET,
    "blackboard_put": _BOARD_PUT,
    "blackboard_write": _BOARD_PUT,
    "blackboard_list": {
        "type": "object",
        "properties": {"prefix": {"type": "string", "description": "'' (the default): all."}},
    },
    "todo_add": {
        "type": "object",
        "properties": {
            "task": {"description": "One todo: any JSON value (give task or tasks)."},
            "tasks": {"type": "array", "description": "Several todos, in order."},
        },
    },
    "todo_claim": {
        "type": "object",
        "properties": {
            "ttl_seconds": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "How long the claim holds (default 300, at most 86400).",
            }
        },
    },
    "todo_complete": {
        "type": "object",
        "required": ["id", "result", "claim"],
        "properties": {
            "id": {"type": "integer", "minimum": 0, "description": "The todo's id."},
            "result": {"description": "What you made of it: any JSON value."},
            "claim": {"type": "string", "description": "The claim todo_claim gave."},
        },
    },
    "todo_list": {
        "type": "object",
        "properties": {"status": {"enum": [*TODO_STATUSES, None]}},
    },
    "handoff": {
        "type": "object",
        "required": ["to"],
        "properties": {
            "to": {"type": "string", "description": "The role to hand the task to."},
            "message": {"type": "string", "description": "What it should know or do."},
        },
    },
}

Builtin = Callable[[dict[str, Any], "ToolContext"], Awaitable[Any]]
"""A built-in tool as the engine provides it: (arguments, context) → JSON result."""

_BUILTIN_FEATURES = {
    "discover_agents": "A2A",
    "route_intent": "A2A",
    "call_agent": "A2A",
    "http_get": "connectors",
}


@dataclass(frozen=True)
class ToolContext:
    """What a tool learns about the call: which job, step and attempt, and the idempotency key
    (the same on every retry of the same step, also after a crash)."""

    job_id: str
    step_id: str
    attempt: int
    idempotency_key: str
    span: str | None = None
    """The span of the agent-to-agent call the tool runs under (None: the step's own), so
    that a trace files the call under its caller's call."""


@dataclass(frozen=True)
class _PythonTool:
    function: Callable[..., Any]
    is_async: bool
    wants_ctx: bool


class ToolRegistry:
    """The Tool manifests of a manifest set plus the built-in tools, callable by name."""

    def __init__(
        self,
        tools: Mapping[str, ToolManifest],
        *,
        observer: Observer | None = None,
        redactor: Redactor | None = None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        self._tools = dict(tools)
        self._files = dict(files or {})
        """The manifest file of each tool: without agentgo.yaml, its folder is the project
        root python tools import from (see ``config.project_root``)."""
        self._roots: dict[str, str | None] = {}
        self.observer = observer
        """Told of every call (``ToolCalled``), its payloads passed through ``redactor``."""
        self.redactor = redactor
        self._inputs: dict[str, Validator] = {}
        self._outputs: dict[str, Validator] = {}
        self._python: dict[tuple[str, str | None], _PythonTool] = {}
        """Imported python tools by (entrypoint, project root)."""
        self.builtins: dict[str, Builtin] = {}
        """Built-in tools available in this process, by name (the engine adds them)."""

    def __contains__(self, name: object) -> bool:
        return name in self._tools or name in BUILTIN_TOOLS

    def definition(self, name: str) -> ToolDef:
        """The tool as a model sees it; StepError for a name that is no tool."""
        manifest = self._tools.get(name)
        if manifest is not None:
            description = manifest.spec.description or manifest.metadata.description or ""
            return ToolDef(name, description, dict(manifest.spec.input))
        if name in BUILTIN_TOOLS:
            schema = _BUILTIN_INPUTS.get(name, {"type": "object"})
            return ToolDef(name, _BUILTIN_DESCRIPTIONS[name], schema)
        raise StepError(f"unknown tool '{name}'")

    def call(self, name: str, args: dict[str, Any], ctx: ToolContext) -> Awaitable[Any]:
        """Check the arguments, run the tool, check its result; StepError on any failure."""
        if self.observer is None:
            return self._call(name, args, ctx)  # no coroutine level more when nobody listens
        return self._observed(self.observer, name, args, ctx)

    async def _observed(
        self, observer: Observer, name: str, args: dict[str, Any], ctx: ToolContext
    ) -> Any:
        started = time.perf_counter()
        try:
            result = await self._call(name, args, ctx)
        except Exception as exc:
            import traceback

            cause = exc.__cause__ if exc.__cause__ is not None else exc
            trace = "".join(traceback.format_exception(cause))
            observer.emit(self._tool_called(name, args, ctx, started, None, str(exc), trace))
            raise
        observer.emit(self._tool_called(name, args, ctx, started, result))
        return result

    def _tool_called(
        self,
        name: str,
        args: dict[str, Any],
        ctx: ToolContext,
        started: float,
        result: Any,
        error: str | None = None,
        trace: str | None = None,
    ) -> ToolCalled:
        """The event of one tool call, its payloads with secrets masked."""
        redact = self.redactor
        if redact:
            args, result = redact.value(args), redact.value(result)
            error = None if error is None else redact.text(error)
            trace = None if trace is None else redact.text(trace)
        seconds = time.perf_counter() - started
        job_id = ctx.job_id or None
        return ToolCalled(
            job_id, ctx.step_id, name, args, result, error, trace, seconds, span=ctx.span
        )

    async def _call(self, name: str, args: dict[str, Any], ctx: ToolContext) -> Any:
        manifest = self._tools.get(name)
        if manifest is None:
            if name in BUILTIN_TOOLS:
                return await self._call_builtin(name, name, args, ctx)
            raise StepError(f"unknown tool '{name}'")
        spec = manifest.spec
        problem = schema_problem(self._validator(self._inputs, name, spec.input), args)
        if problem is not None:
            raise StepError(f"tool '{name}': invalid arguments: {problem}")
        runtime = spec.runtime
        if isinstance(runtime, PythonRuntime):
            result = await self._call_python(name, runtime, args, ctx)
        elif isinstance(runtime, BuiltinRuntime):
            builtin = runtime.name or runtime.builtin_for(name)
            result = await self._call_builtin(name, builtin, args, ctx)
        elif isinstance(runtime, ContainerRuntime):
            raise StepError(
                f"tool '{name}': the container runtime comes with the sandbox feature and is "
                "not available in this version"
            )
        elif isinstance(runtime, HttpRuntime):
            raise StepError(
                f"tool '{name}': the http runtime comes with the connectors feature and is "
                "not available in this version"
            )
        else:  # pragma: no cover - the manifest model allows no other runtime
            raise StepError(f"tool '{name}': unknown runtime")
        if spec.output is not None:
            problem = schema_problem(self._validator(self._outputs, name, spec.output), result)
            if problem is not None:
                raise StepError(f"tool '{name}': invalid result: {problem}")
        return result

    async def _call_builtin(
        self, name: str, builtin: str, args: dict[str, Any], ctx: ToolContext
    ) -> Any:
        handler = self.builtins.get(builtin)
        if handler is None:
            raise StepError(_builtin_unavailable(name, builtin))
        problem = schema_problem(
            self._validator(
                self._inputs, f"builtin:{builtin}", _BUILTIN_INPUTS.get(builtin, {"type": "object"})
            ),
            args,
        )
        if problem is not None:
            raise StepError(f"tool '{name}': invalid arguments: {problem}")
        return await handler(args, ctx)

    def _validator(
        self, cache: dict[str, Validator], name: str, schema: dict[str, Any]
    ) -> Validator:
        validator = cache.get(name)
        if validator is None:
            validator = cache[name] = _new_validator(schema)
        return validator

    async def _call_python(
        self, name: str, runtime: PythonRuntime, args: dict[str, Any], ctx: ToolContext
    ) -> Any:
        if runtime.isolation == "process":
            return await self._call_isolated(name, runtime, args, ctx)
        key = (runtime.entrypoint, self._root(name))
        tool = self._python.get(key)
        if tool is None:
            tool = self._python[key] = _import(name, *key)
        kwargs = dict(args)
        if tool.wants_ctx:
            if "ctx" in kwargs:
                raise StepError(f"tool '{name}': argument 'ctx' is reserved for the call context")
            kwargs["ctx"] = ctx
        deadline = asyncio.timeout(runtime.timeout.seconds if runtime.timeout else None)
        try:
            async with deadline:
                if tool.is_async:
                    result = await tool.function(**kwargs)
                else:
                    result = await _in_daemon_thread(tool.function, kwargs)
                    if inspect.isawaitable(result):
                        result = await result
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                raise StepError(f"tool '{name}' timed out after {runtime.timeout}") from None
            cause = exc.error if isinstance(exc, _Carried) else exc
            raise StepError(f"tool '{name}'{describe(cause)}") from cause
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: the tool may not end us
            if isinstance(exc, asyncio.CancelledError) and _cancelling():
                raise  # a timeout or a stop from outside, not the tool's doing
            raise StepError(f"tool '{name}'{describe(exc)}") from exc
        return result

    def _root(self, name: str) -> str | None:
        """The project root tool ``name`` imports from: the folder of the project's
        agentgo.yaml (found upwards from the working folder), else of the tool's manifest;
        None for a registry not told where its manifests are."""
        if name not in self._roots:
            from agentgo_cli.config import find_project_config, project_root

            file = self._files.get(name)
            root = project_root(find_project_config(), file) if file is not None else None
            self._roots[name] = None if root is None else str(root)
        return self._roots[name]

    async def _call_isolated(
        self, name: str, runtime: PythonRuntime, args: dict[str, Any], ctx: ToolContext
    ) -> Any:
        from agentgo_cli.tools.isolation import call_isolated

        deadline = asyncio.timeout(runtime.timeout.seconds if runtime.timeout else None)
        try:
            async with deadline:
                return await call_isolated(name, runtime.entrypoint, args, ctx, self._root(name))
        except TimeoutError:
            if deadline.expired():
                raise StepError(f"tool '{name}' timed out after {runtime.timeout}") from None
            raise


def _builtin_unavailable(name: str, builtin: str) -> str:
    feature = _BUILTIN_FEATURES.get(builtin)
    if feature is None:
        return f"tool '{name}': there is no built-in tool '{builtin}'"
    return (
        f"tool '{name}': the built-in tool '{builtin}' comes with the {feature} feature and is "
        "not available in this version"
    )


def _import(name: str, entrypoint: str, root: str | None) -> _PythonTool:
    """Import 'module:function' (from the project root when it is there); note how to call it."""
    try:
        return _PythonTool(*resolve(entrypoint, root))
    except ImportProblem as exc:
        raise StepError(f"tool '{name}'{exc}") from exc.__cause__


def _cancelling() -> bool:
    """Whether the current task is being cancelled (from outside the tool)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


# -- JSON Schema helpers shared with the agent loop -------------------------------------------


def _new_validator(schema: dict[str, Any]) -> Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


@lru_cache(maxsize=1024)
def _validator_from_text(text: str) -> Validator:
    return _new_validator(json.loads(text))


def validator_for(schema: dict[str, Any]) -> Validator:
    """A draft 2020-12 validator for a schema, built once per distinct schema."""
    return _validator_from_text(json.dumps(schema, sort_keys=True))


def schema_problem(validator: Validator, value: Any) -> str | None:
    """The most relevant reason ``value`` does not match, as one line; None when it does."""
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = _path(error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Carried(Exception):
    """A BaseException a sync tool raised in its thread (SystemExit, GeneratorExit...), carried
    to the awaiting coroutine as an ordinary error: thrown into coroutines as it is, a
    GeneratorExit would close them rather than fail the call."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


async def _in_daemon_thread(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Run a sync tool on its own daemon thread.

    Unlike ``asyncio.to_thread``, a tool still running after its timeout does not keep the
    process alive once the job has ended.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def target() -> None:
        error: BaseException | None = None
        try:
            result = function(**kwargs)
        except Exception as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        except BaseException as exc:  # SystemExit and the like: carried, not thrown into it
            result, error = None, _Carried(exc)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=target, name="agentgo-tool", daemon=True).start()
    return await future
