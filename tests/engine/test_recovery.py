"""The engine cache, the resume policy and the worker loop, without the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.engine.engines import Engines
from agentgo_cli.engine.owners import new_owner
from agentgo_cli.engine.recovery import take_for_resume
from agentgo_cli.engine.worker import Worker
from agentgo_cli.errors import ConfigError, ManifestSetError, NotFoundError, UsageError
from agentgo_cli.llm.hub import ModelHub
from agentgo_cli.manifests.manifest_set import ManifestSet, load_set
from agentgo_cli.store.base import JobStatus
from tests.conftest import StoreDB
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, workflow

Write = Callable[[str, str], Path]

ECHO = """
steps:
  - id: said
    tool: echo
    with: {text: "hello"}
outputs:
  said: "${{ steps.said.output.text }}"
"""

PAID = """
apiVersion: agentgo/v1
kind: Agent
metadata: {name: paid}
spec:
  model: openai:gpt-4o-mini
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: crew}
spec:
  protocol: pipeline
  roles:
    - {name: draft, agent: writer}
    - {name: polish, agent: paid}
---
apiVersion: agentgo/v1
kind: Team
metadata: {name: backup}
spec:
  protocol: pipeline
  roles:
    - {name: draft, agent: writer, on_failure: replace, fallback_agents: [paid]}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: crew-card}
spec:
  target: team:crew
  intents:
    - {name: crew.work, version: 1.0.0, input: {type: string}}
"""
"""An agent on a real provider, and teams and a card that reach it."""


def _load(paths: list[str]) -> ManifestSet:
    mset = load_set(paths)
    if not mset.valid:
        raise ManifestSetError(mset.sorted_errors())
    return mset


@pytest.fixture
async def engines(write: Write, workdir: Path, store_db: StoreDB) -> AsyncIterator[Engines]:
    engine_tools.reset()
    write("m/common.yaml", COMMON)
    workflow(write, ECHO)
    async with store_db.running() as store:
        yield Engines(store, ModelHub(), _load)


def _paths(workdir: Path) -> list[str]:
    return [str(workdir / "m")]


async def test_resume_of_no_job_is_not_found(engines: Engines) -> None:
    with pytest.raises(NotFoundError, match="^no job 'nope'$"):
        await take_for_resume(engines, engines.store, "nope", force=False)


async def test_an_ended_job_is_given_back_without_an_engine(
    engines: Engines, workdir: Path
) -> None:
    engine = engines.get(_paths(workdir))
    job = await engine.submit("wf", {}, _paths(workdir), run_here=True)
    await engine.run(job)

    ended, none = await take_for_resume(engines, engines.store, job.id, force=False)

    assert (ended.status, none) == (JobStatus.SUCCEEDED, None)


async def test_a_live_lease_is_respected_unless_forced(engines: Engines, workdir: Path) -> None:
    other = new_owner()  # this process: alive
    job = await engines.store.create_job(
        "wf", {}, _paths(workdir), status=JobStatus.RUNNING, lease_owner=other, lease_seconds=60
    )
    with pytest.raises(UsageError) as info:
        await take_for_resume(engines, engines.store, job.id, force=False)
    assert str(info.value) == (
        f"job {job.id} is running under {other}; wait for its lease to expire, or pass "
        "--force if that process is gone"
    )

    taken, engine = await take_for_resume(engines, engines.store, job.id, force=True)

    assert engine is not None and taken.lease_owner == engines.owner
    final = await engine.run(taken)
    assert (final.status, final.outputs) == (JobStatus.SUCCEEDED, {"said": "hello"})


@pytest.mark.parametrize(
    "step",
    [
        "{id: ask, agent: paid}",
        "{id: ask, team: crew, input: x}",  # a role's agent
        "{id: ask, team: backup, input: x}",  # a role's fallback agent
        "{id: ask, call: crew.work, input: x}",  # a card whose target is a team
    ],
    ids=["agent", "team-role", "team-fallback", "call-to-team"],
)
async def test_models_are_checked_before_the_job_is_taken(
    engines: Engines, write: Write, workdir: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    write("m/paid.yaml", PAID)
    workflow(write, f"steps:\n  - {step}\n", name="pay")
    job = await engines.store.create_job("pay", {}, _paths(workdir), status=JobStatus.QUEUED)

    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        await take_for_resume(engines, engines.store, job.id, force=False)

    still = await engines.store.get_job(job.id)
    assert still is not None and (still.status, still.lease_owner) == (JobStatus.QUEUED, None)


async def test_reload_swaps_valid_sets_and_keeps_the_old_engine_for_invalid_ones(
    engines: Engines, write: Write, workdir: Path
) -> None:
    said: list[str] = []
    first = engines.get(_paths(workdir))
    assert engines.get(_paths(workdir)) is first

    engines.reload(said.append)
    second = engines.get(_paths(workdir))
    assert second is not first
    assert said == [f"reloaded 1 workflows, {len(second.catalog.entries())} intents"]

    write("m/broken.yaml", "apiVersion: agentgo/v1\nkind: Agent\nmetadata: {name: x}\nspec: {}\n")
    engines.reload(said.append)

    assert engines.get(_paths(workdir)) is second
    assert said[1].startswith("reload refused, the previous manifests stay in use: ")


async def test_the_worker_runs_queued_jobs_once(engines: Engines, workdir: Path) -> None:
    ids = [
        (await engines.store.create_job("wf", {}, _paths(workdir), status=JobStatus.QUEUED)).id
        for _ in range(3)
    ]
    notes: list[str] = []

    ran = await Worker(engines, engines.store).run(
        concurrency=2, once=True, poll=0.05, watch_paths=[], notify=notes.append
    )

    assert ran == 3
    jobs: list[Any] = [await engines.store.get_job(i) for i in ids]
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED] * 3
    assert notes == []
