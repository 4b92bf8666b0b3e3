"""Fencing in the engine: a run that lost its lease stops without touching the job; resumes
take a job by compare-and-set; a job that lost its owners is failed as poisoned."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.engine import scheduler
from agentgo_cli.engine.engines import Engines
from agentgo_cli.engine.recovery import take_for_resume
from agentgo_cli.errors import ManifestSetError, UsageError
from agentgo_cli.llm.hub import ModelHub
from agentgo_cli.manifests.manifest_set import ManifestSet, load_set
from agentgo_cli.observer import Event, JobEnded
from agentgo_cli.store.base import JobStatus
from tests.conftest import StoreDB
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow

Write = Callable[[str, str], Path]

SLOW = """
steps:
  - id: first
    tool: nap
    with: {seconds: 0.3}
  - id: second
    tool: echo
    with: {text: "hello"}
"""

RETRIED = """
steps:
  - id: shaky
    tool: flaky
    with: {label: x}
    retry: {max_attempts: 2}
"""


class _Ends:
    def __init__(self) -> None:
        self.ended: list[tuple[str, str | None]] = []

    def emit(self, event: Event) -> None:
        if isinstance(event, JobEnded):
            self.ended.append((event.status, event.error))


def _load(paths: list[str]) -> ManifestSet:
    mset = load_set(paths)
    if not mset.valid:
        raise ManifestSetError(mset.sorted_errors())
    return mset


def _dead_owner() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:0badf00d"


def _look_then_wait(store: Any, barrier: asyncio.Barrier) -> None:
    real_get = store.get_job

    async def get_job(job_id: str) -> Any:
        job = await real_get(job_id)
        await barrier.wait()
        return job

    store.get_job = get_job


@pytest.fixture
def paths(write: Write, workdir: Path) -> list[str]:
    engine_tools.reset()
    write("m/common.yaml", COMMON)
    workflow(write, SLOW)
    return [str(workdir / "m")]


@pytest.fixture
async def engines(paths: list[str], store_db: StoreDB) -> AsyncIterator[Engines]:
    async with store_db.running() as store:
        yield Engines(store, ModelHub(), _load, observer=_Ends())


async def test_a_run_that_lost_its_lease_stops_without_touching_the_job(
    engines: Engines, paths: list[str]
) -> None:
    engine = engines.get(paths)
    store = engines.store
    job = await engine.submit("wf", {}, paths, run_here=True)
    running = asyncio.ensure_future(engine.run(job))
    await asyncio.sleep(0.1)  # 'first' is running
    taken = await store.take_over(job.id, "thief", 60)
    assert taken is not None

    final = await asyncio.wait_for(running, 10)

    assert final.status == JobStatus.RUNNING  # not ours to end
    ends = engines.observer  # the engine's own fans out to it and to the trace recorder
    assert isinstance(ends, _Ends) and ends.ended == [("lost", "the job's lease was taken over")]
    assert await store.get_job(job.id) == taken  # the thief's, untouched
    (first,) = await store.steps(job.id)  # 'first' never finished here, 'second' never ran
    assert (first.key, first.status) == ("first", "running")
    assert await store.events(job.id) == []


async def test_of_two_resumes_at_once_one_takes_the_job(
    engines: Engines, paths: list[str], store_db: StoreDB
) -> None:
    job = await engines.store.create_job(
        "wf", {}, paths, status=JobStatus.RUNNING, lease_owner=_dead_owner(), lease_seconds=60
    )
    async with store_db.running() as other_store:
        other = Engines(other_store, ModelHub(), _load)
        both_looked = asyncio.Barrier(2)
        for store in (engines.store, other_store):  # both look before either takes
            _look_then_wait(store, both_looked)
        results: list[Any] = await asyncio.gather(
            take_for_resume(engines, engines.store, job.id, force=False),
            take_for_resume(other, other_store, job.id, force=False),
            return_exceptions=True,
        )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    taken, engine = won[0]
    assert engine is not None and taken.lease_epoch == 2
    assert isinstance(lost[0], UsageError)
    assert str(lost[0]) == (
        f"job {job.id} was taken by another process ({taken.lease_owner}) meanwhile"
    )


async def test_a_forced_resume_does_not_take_a_job_taken_meanwhile(
    engines: Engines, paths: list[str]
) -> None:
    job = await engines.store.create_job(
        "wf", {}, paths, status=JobStatus.RUNNING, lease_owner="elsewhere:1:x", lease_seconds=60
    )
    seen = await engines.store.get_job(job.id)
    await engines.store.take_over(job.id, "elsewhere:2:y", 60)  # between our look and take
    real_get = engines.store.get_job

    async def stale_get(job_id: str) -> Any:
        return seen if job_id == job.id else await real_get(job_id)

    engines.store.get_job = stale_get  # type: ignore[method-assign]
    with pytest.raises(UsageError, match=r"was taken by another process \(elsewhere:2:y\)"):
        await take_for_resume(engines, engines.store, job.id, force=True)


async def test_resume_fails_a_job_that_lost_its_owners_as_poisoned(
    engines: Engines, paths: list[str]
) -> None:
    job = await engines.store.create_job(
        "wf", {}, paths, status=JobStatus.RUNNING, lease_owner=_dead_owner(), lease_seconds=60
    )
    engines.poison_after = 1

    ended, engine = await take_for_resume(engines, engines.store, job.id, force=False)

    error = (
        f"job {job.id} was abandoned by 1 owner (each died while running it); failed as poisoned"
    )
    assert (engine, ended.status, ended.error) == (None, JobStatus.FAILED, error)
    assert [e.message for e in await engines.store.events(job.id)] == [f"failed: {error}"]


async def test_a_retry_does_not_start_once_the_lease_ran_out_and_was_taken(
    write: Write, paths: list[str], store_db: StoreDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow(write, RETRIED, name="retried")
    monkeypatch.setattr(scheduler, "backoff", lambda retry, attempt: 0.5)
    async with store_db.running() as store:
        engine = Engines(store, ModelHub(), _load, lease_seconds=0.3).get(paths)

        async def no_guard() -> None:  # as if the process could not renew in time
            return None

        monkeypatch.setattr(engine, "_guard", no_guard)
        job = await engine.submit("retried", {}, paths, run_here=True)
        running = asyncio.ensure_future(engine.run(job))
        await asyncio.sleep(0.4)  # attempt 1 failed; the lease ran out during the backoff
        taken = await store.take_over(job.id, "thief", 60, expected=job.lease)
        assert taken is not None and taken.lease_owner == "thief"

        final = await asyncio.wait_for(running, 10)

        assert final.status == JobStatus.RUNNING
        assert engine_tools.calls == {f"{job.id}:shaky": 1}  # attempt 2 never ran here
        assert await store.get_job(job.id) == taken
