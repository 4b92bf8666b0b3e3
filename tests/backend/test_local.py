"""The local backend as a service boundary: one open backend, views in and out, and the
watch stream for a job running here and for one a worker runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from agentgo_cli.backend.local import LocalBackend
from agentgo_cli.backend.views import (
    CatalogRequest,
    EventView,
    JobsQuery,
    ResumeRequest,
    RunRequest,
    ValidateRequest,
    WorkRequest,
)
from agentgo_cli.errors import NotFoundError
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, seed_job, workflow

Write = Callable[[str, str], Path]

STEPS = """
steps:
  - id: first
    tool: echo
    with: {text: "one two"}
  - id: each
    foreach: [a, b]
    steps:
      - id: note
        tool: echo
        with: {text: "${{ item }}"}
  - id: last
    tool: echo
    with: {text: "${{ steps.first.output.words }} words"}
outputs:
  words: ${{ steps.first.output.words }}
"""

ORDER = [
    ("first", "running"),
    ("first", "succeeded"),
    ("each", "running"),
    ("each[0].note", "running"),
    ("each[1].note", "running"),
    ("each[0].note", "succeeded"),
    ("each[1].note", "succeeded"),
    ("each", "succeeded"),
    ("last", "running"),
    ("last", "succeeded"),
]


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, STEPS)
    return write


def _steps(events: list[EventView]) -> list[tuple[str, str]]:
    return [(e.step.key, e.step.status) for e in events if e.step is not None]


async def test_watch_streams_a_job_running_here_until_its_end(
    project: Write, backend: LocalBackend
) -> None:
    job = await backend.submit(RunRequest(workflow="wf"))
    assert job.status == "running"
    events = [e async for e in backend.watch(job.job_id)]
    assert sorted(_steps(events)) == sorted(ORDER)
    for key in ("first", "each", "last"):  # each step starts before it ends, in order
        assert _steps(events).index((key, "running")) < _steps(events).index((key, "succeeded"))
    assert _steps(events).index(("first", "succeeded")) < _steps(events).index(("last", "running"))
    end = events[-1]
    assert (end.kind, end.job_id, end.data) == (
        "end",
        job.job_id,
        {"status": "succeeded", "error": None},
    )
    done = await backend.wait(job.job_id)
    assert (done.status, done.outputs) == ("succeeded", {"words": 2})
    # A reader that comes after the end still reads the whole stream.
    again = [e async for e in backend.watch(job.job_id)]
    assert [e.model_dump() for e in again] == [e.model_dump() for e in events]


async def test_watch_follows_a_job_that_another_process_runs(project: Write, workdir: Path) -> None:
    async with LocalBackend() as client, LocalBackend() as worker:
        job = await client.submit(RunRequest(workflow="wf", detach=True))
        assert job.status == "queued"

        async def work() -> list[str]:
            await asyncio.sleep(0.3)  # the client is watching the queued job by then
            return [n.message async for n in worker.work(WorkRequest(once=True, poll=0.05))]

        events, notices = await asyncio.gather(
            _collect(client, job.job_id), asyncio.wait_for(work(), 30)
        )
    assert notices[-1] == "ran 1 job"
    assert events[-1].kind == "end"
    assert events[-1].data == {"status": "succeeded", "error": None}
    logs = [e for e in events if e.kind != "end" and e.step is None]
    assert logs and all(e.seq is not None and e.job_id == job.job_id for e in logs)
    assert [e.seq for e in logs] == sorted({e.seq for e in logs})  # each line once, in order
    assert logs[-1].message == "succeeded"
    # Its steps too, read from the store as they start and end, as for a job run here.
    steps = _steps(events)
    assert {s for s in steps if s[1] == "succeeded"} == {(k, "succeeded") for k, _ in ORDER}
    for key, _ in ORDER:
        assert steps.count((key, "succeeded")) == 1
        if (key, "running") in steps:  # unless it ran between two reads of the store
            assert steps.index((key, "running")) < steps.index((key, "succeeded"))


async def _collect(backend: LocalBackend, job_id: str) -> list[EventView]:
    return [e async for e in backend.watch(job_id)]


async def test_watch_of_an_unknown_job_is_not_found(project: Write, backend: LocalBackend) -> None:
    with pytest.raises(NotFoundError, match="no job 'j-nope'"):
        await anext(backend.watch("j-nope"))


async def test_resume_takes_the_job_and_runs_it_here(project: Write, backend: LocalBackend) -> None:
    job_id = await asyncio.to_thread(
        seed_job, "wf", {}, status="running", lease_owner="gone-1:1", lease_seconds=-1
    )
    taken = await backend.resume(ResumeRequest(job_id=job_id))
    assert taken.status == "running"
    assert [s for s in _steps([e async for e in backend.watch(job_id)]) if s[0] == "last"] == [
        ("last", "running"),
        ("last", "succeeded"),
    ]
    done = await backend.wait(job_id)
    assert done.status == "succeeded"
    # An ended job is given back as it is.
    assert (await backend.resume(ResumeRequest(job_id=job_id))).status == "succeeded"


async def test_a_backend_is_opened_once(project: Write) -> None:
    backend = LocalBackend()
    async with backend:
        assert await backend.jobs(JobsQuery()) == []
    with pytest.raises(RuntimeError, match="a LocalBackend is used once"):
        async with backend:
            pass
    with pytest.raises(RuntimeError, match="inside 'async with'"):
        await backend.jobs(JobsQuery())
    with pytest.raises(RuntimeError, match="inside 'async with'"):
        await backend.validate(ValidateRequest())


async def test_validate_and_catalog_open_no_store(project: Write, workdir: Path) -> None:
    async with LocalBackend() as backend:
        report = await backend.validate(ValidateRequest())
        assert report.valid and report.manifests["Workflow"] == 1
        assert "writer.run" in [e.name for e in await backend.catalog(CatalogRequest())]
    assert not (workdir / "state").exists()
