"""Python tools that try to end, crash or hang the process: each becomes a failed call.

In process, a tool's SystemExit, KeyboardInterrupt or other BaseException is a tool error.
With ``isolation: process`` the tool runs in a child process, so that even ``os._exit``, a
segfault or a hang leave the caller unharmed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.errors import StepError
from agentgo_cli.manifests.manifest_set import load_set
from agentgo_cli.tools import ToolContext, ToolRegistry
from tests.conftest import StoreDB
from tests.engine.engine_tools import COMMON, workflow
from tests.tools.test_registry import load_tools

Write = Callable[[str, str], Path]

CTX = ToolContext(job_id="job-1", step_id="s", attempt=2, idempotency_key="job-1:s")
POISON = "tests.tools.poison_tools"


def _tool(name: str, function: str, extra: str = "") -> str:
    runtime = f'{{type: python, entrypoint: "{POISON}:{function}"{extra}}}'
    return f"""
apiVersion: agentgo/v1
kind: Tool
metadata: {{name: {name}}}
spec:
  runtime: {runtime}
"""


_IN_PROCESS = {
    "exit": "exit_3",
    "exit-text": "exit_text",
    "interrupt": "interrupt",
    "exit-async": "exit_async",
    "genexit": "generator_exit",
    "cancelled": "cancelled_inside",
    "recurse": "recurse",
    "chatty": "chatty",
}
_ISOLATED = {
    "iso-exit": "exit_3",
    "iso-interrupt": "interrupt",
    "iso-exit-async": "exit_async",
    "iso-hard-exit": "hard_exit",
    "iso-segfault": "segfault",
    "iso-recurse": "recurse",
    "iso-hang": "hang",
    "iso-chatty": "chatty",
    "iso-chatty-async": "chatty_async",
    "iso-where": "where",
    "iso-fail": "fail",
    "iso-not-json": "not_json",
    "iso-missing": "nowhere",
}
TOOLS = "---".join(
    [_tool(name, function) for name, function in _IN_PROCESS.items()]
    + [_tool(name, function, ", isolation: process") for name, function in _ISOLATED.items()]
    + [
        _tool("iso-slow", "hang", ", isolation: process, timeout: 200ms"),
        _tool("iso-slow-async", "hang_async", ", isolation: process, timeout: 200ms"),
    ]
)


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return ToolRegistry(load_tools(TOOLS))


async def _fails(registry: ToolRegistry, name: str, args: dict[str, object] | None = None) -> str:
    with pytest.raises(StepError) as info:
        await registry.call(name, args or {}, CTX)
    return str(info.value)


# -- in process ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("exit", "tool 'exit' tried to exit the process (SystemExit 3)", id="sys-exit"),
        pytest.param(
            "exit-text",
            "tool 'exit-text' tried to exit the process (SystemExit 'goodbye')",
            id="sys-exit-text",
        ),
        pytest.param(
            "interrupt",
            "tool 'interrupt' tried to interrupt the process (KeyboardInterrupt)",
            id="keyboard-interrupt",
        ),
        pytest.param(
            "exit-async",
            "tool 'exit-async' tried to exit the process (SystemExit 4)",
            id="async-system-exit",
        ),
        pytest.param(
            "genexit", "tool 'genexit' raised GeneratorExit: misused", id="generator-exit"
        ),
        pytest.param("cancelled", "tool 'cancelled' raised CancelledError", id="own-cancel"),
    ],
)
async def test_a_tool_cannot_end_the_process(
    registry: ToolRegistry, name: str, message: str
) -> None:
    assert await _fails(registry, name) == message


async def test_infinite_recursion_in_process(registry: ToolRegistry) -> None:
    message = await _fails(registry, "recurse")
    assert message.startswith("tool 'recurse' raised RecursionError: maximum recursion depth")


async def test_a_cancel_from_outside_still_cancels_the_call(registry: ToolRegistry) -> None:
    task = asyncio.ensure_future(registry.call("iso-slow-async", {}, CTX))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# -- isolated in a child process -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "iso-exit", "tool 'iso-exit' tried to exit the process (SystemExit 3)", id="sys-exit"
        ),
        pytest.param(
            "iso-interrupt",
            "tool 'iso-interrupt' tried to interrupt the process (KeyboardInterrupt)",
            id="keyboard-interrupt",
        ),
        pytest.param(
            "iso-exit-async",
            "tool 'iso-exit-async' tried to exit the process (SystemExit 4)",
            id="async-system-exit",
        ),
        pytest.param(
            "iso-hard-exit",
            "tool 'iso-hard-exit': its process exited with status 7 before answering",
            id="os-exit",
        ),
        pytest.param(
            "iso-segfault",
            "tool 'iso-segfault': its process was killed by signal SIGSEGV before answering",
            id="segfault",
        ),
        pytest.param("iso-slow", "tool 'iso-slow' timed out after 200ms", id="timeout"),
        pytest.param("iso-slow-async", "tool 'iso-slow-async' timed out after 200ms", id="async"),
        pytest.param(
            "iso-not-json",
            "tool 'iso-not-json' returned a value that is not JSON: "
            "Object of type set is not JSON serializable",
            id="not-json",
        ),
        pytest.param(
            "iso-missing",
            "tool 'iso-missing': cannot import entrypoint 'tests.tools.poison_tools:nowhere': "
            "module 'tests.tools.poison_tools' has no attribute 'nowhere'",
            id="import",
        ),
    ],
)
async def test_an_isolated_tool_fails_without_harming_the_caller(
    registry: ToolRegistry, name: str, message: str
) -> None:
    assert await _fails(registry, name) == message


async def test_an_isolated_tool_error_reads_as_in_process(registry: ToolRegistry) -> None:
    message = await _fails(registry, "iso-fail", {"reason": "disk full"})
    assert message == "tool 'iso-fail' raised ValueError: disk full"


async def test_infinite_recursion_in_a_child(registry: ToolRegistry) -> None:
    message = await _fails(registry, "iso-recurse")
    assert message.startswith("tool 'iso-recurse' raised RecursionError: maximum recursion depth")


async def test_an_isolated_tool_answers_from_another_process(
    registry: ToolRegistry, workdir: Path
) -> None:
    result = await registry.call("iso-where", {}, CTX)
    assert result == {
        "pid": result["pid"],
        "cwd": str(workdir),
        "ctx_type": "ToolContext",
        "job_id": "job-1",
        "attempt": 2,
        "idempotency_key": "job-1:s",
    }
    assert result["pid"] != os.getpid()


async def test_what_an_isolated_tool_prints_does_not_spoil_its_answer(
    registry: ToolRegistry, capfd: pytest.CaptureFixture[str]
) -> None:
    assert await registry.call("iso-chatty", {"text": "a b"}, CTX) == {"text": "a b", "words": 2}
    assert await registry.call("iso-chatty-async", {"text": "a"}, CTX) == {"text": "A"}
    assert capfd.readouterr().err == "some chatter on stdout\n"


async def test_a_cancelled_isolated_call_kills_its_child(registry: ToolRegistry) -> None:
    before = set(_children())
    task = asyncio.ensure_future(registry.call("iso-hang", {}, CTX))
    children: set[int] = set()
    for _ in range(100):
        await asyncio.sleep(0.02)
        children = set(_children()) - before
        if children:
            break
    assert children, "the tool's child process never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not any(_alive(pid) for pid in children)


def _children() -> list[int]:
    """The pids of this process's live children (from /proc)."""
    path = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# -- in a job --------------------------------------------------------------------------------

POISONED = """
steps:
  - id: first
    tool: {tool}
{extra}
  - id: after
    tool: echo
    with: {{text: "still here"}}
"""


@pytest.fixture
async def run_with(
    write: Write, workdir: Path, store_db: StoreDB
) -> AsyncIterator[Callable[[str, str], object]]:
    write("m/common.yaml", COMMON)
    write("m/poison.yaml", TOOLS)
    async with store_db.running() as store:

        async def run(tool: str, extra: str = "") -> object:
            workflow(write, POISONED.format(tool=tool, extra=extra))
            mset = load_set([workdir / "m"])
            assert mset.valid, mset.sorted_errors()
            engine = Engine(store, mset)
            job = await engine.submit("wf", {}, ["m"], run_here=True)
            final = await engine.run(job)
            steps = {s.key: (s.status, s.attempt, s.error) for s in await store.steps(job.id)}
            return final.status, final.error, steps

        yield run


@pytest.mark.parametrize(
    ("tool", "error"),
    [
        ("exit", "tool 'exit' tried to exit the process (SystemExit 3)"),
        ("interrupt", "tool 'interrupt' tried to interrupt the process (KeyboardInterrupt)"),
        ("exit-async", "tool 'exit-async' tried to exit the process (SystemExit 4)"),
        (
            "iso-hard-exit",
            "tool 'iso-hard-exit': its process exited with status 7 before answering",
        ),
        (
            "iso-segfault",
            "tool 'iso-segfault': its process was killed by signal SIGSEGV before answering",
        ),
    ],
)
async def test_the_job_of_a_poisoned_tool_fails(
    run_with: Callable[..., object], tool: str, error: str
) -> None:
    status, job_error, steps = await run_with(tool)  # type: ignore[misc]
    assert (status, job_error) == ("failed", f"step 'first' failed: {error}")
    assert steps == {"first": ("failed", 1, error)}


async def test_a_hang_beyond_the_step_timeout_fails_the_step(
    run_with: Callable[..., object],
) -> None:
    status, job_error, steps = await run_with("iso-hang", "    timeout: 300ms")  # type: ignore[misc]
    assert (status, job_error) == ("failed", "step 'first' failed: timed out after 300ms")
    assert steps == {"first": ("failed", 1, "timed out after 300ms")}


async def test_retry_and_continue_on_error_apply(run_with: Callable[..., object]) -> None:
    extra = "    retry: {max_attempts: 2, initial: 10ms}\n    continue_on_error: true"
    status, _, steps = await run_with("exit", extra)  # type: ignore[misc]
    error = "tool 'exit' tried to exit the process (SystemExit 3)"
    assert status == "succeeded"
    assert steps == {"first": ("failed", 2, error), "after": ("succeeded", 1, None)}


def test_isolation_is_none_unless_asked() -> None:
    tools = load_tools(TOOLS)
    assert tools["exit"].spec.runtime.isolation == "none"  # type: ignore[union-attr]
    assert tools["iso-exit"].spec.runtime.isolation == "process"  # type: ignore[union-attr]


def test_an_unknown_isolation_is_a_manifest_error() -> None:
    from agentgo_cli.manifests.loader import load_text
    from agentgo_cli.manifests.manifest_set import check_document

    (doc,) = load_text(_tool("t", "exit_3", ", isolation: thread"), "t.yaml").documents
    _, errors = check_document(doc)
    assert [str(e) for e in errors] == [
        "t.yaml:6:85: spec.runtime.isolation: unknown isolation 'thread'; "
        "expected 'none' or 'process'"
    ]
