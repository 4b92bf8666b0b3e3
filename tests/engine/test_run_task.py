"""A job runs in the task that awaits ``Engine.run``: how that task is stopped and left.

The engine gives a job no task of its own. A cancel request stops the job through the
caller's task and leaves that task usable; a cancel from the caller itself is passed on,
with the job left to be resumed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.manifests.manifest_set import load_set
from tests.conftest import StoreDB
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow

Write = Callable[[str, str], Path]

NAPPING = """
steps:
  - id: first
    tool: echo
    with: {text: "before"}
  - id: long
    tool: nap
    with: {seconds: 30}
"""


@pytest.fixture
async def engine(write: Write, workdir: Path, store_db: StoreDB) -> AsyncIterator[Engine]:
    engine_tools.reset()
    write("m/common.yaml", COMMON)
    workflow(write, NAPPING)
    mset = load_set([workdir / "m"])
    assert mset.valid, mset.sorted_errors()
    async with store_db.running() as store:
        yield Engine(store, mset, lease_seconds=0.3)  # the guard looks every 0.1 s


async def _until_step(engine: Engine, job_id: str, key: str) -> None:
    for _ in range(200):
        if any(r.key == key for r in await engine.store.steps(job_id)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"step {key} never started")


async def test_a_cancel_request_stops_the_job_and_leaves_the_task_usable(engine: Engine) -> None:
    job = await engine.submit("wf", {}, ["m"], run_here=True)

    async def caller() -> str:
        final = await engine.run(job)
        await asyncio.sleep(0.01)  # the task was not left cancelled
        return final.status

    task = asyncio.ensure_future(caller())
    await _until_step(engine, job.id, "long")
    assert await engine.store.request_cancel(job.id)
    assert await asyncio.wait_for(task, 5) == "cancelled"
    record = await engine.store.get_job(job.id)
    assert record is not None
    assert (record.status, record.error, record.lease_owner) == (
        "cancelled",
        "cancelled on request",
        None,
    )
    steps = {r.key: (r.status, r.error) for r in await engine.store.steps(job.id)}
    assert steps == {
        "first": ("succeeded", None),
        "long": ("failed", "interrupted: cancelled on request"),
    }


async def test_a_cancel_from_the_caller_passes_through_and_leaves_the_job_to_resume(
    engine: Engine,
) -> None:
    job = await engine.submit("wf", {}, ["m"], run_here=True)
    task = asyncio.ensure_future(engine.run(job))
    await _until_step(engine, job.id, "long")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await engine.store.get_job(job.id)
    assert record is not None
    assert (record.status, record.lease_owner) == ("running", engine.owner)
    steps = {r.key: r.status for r in await engine.store.steps(job.id)}
    assert steps == {"first": "succeeded", "long": "running"}


async def test_a_job_that_ended_is_not_stopped_by_a_late_cancel_request(engine: Engine) -> None:
    """The guard checks that the task still runs the job before it cancels the task."""
    quick = await engine.submit("wf", {}, ["m"], run_here=True)
    engine._running[quick.id] = asyncio.current_task()  # type: ignore[assignment]
    engine._running.pop(quick.id)
    engine._stop(quick.id, asyncio.current_task(), "cancelled")  # type: ignore[arg-type]
    await asyncio.sleep(0.01)  # no CancelledError lands here
    assert quick.id not in engine._stopped
