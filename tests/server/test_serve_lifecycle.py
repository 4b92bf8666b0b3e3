"""The server's life: not ready while starting or stopping; on SIGTERM or Ctrl-C it stops
taking requests, lets the steps in flight finish, gives the running jobs up at their last
committed step (the worker's and the ones ``POST /v1/jobs`` runs alike) and exits 0, in
bounded time; the next server finishes them without redoing a step. ``--workers 0`` is an
API-only node: queued jobs stay queued."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.server.serving import (
    AGENTGO,
    ThreadServer,
    agentgo,
    finished,
    headers,
    job_state,
    marks,
    serve_remote,
    start_run,
    wait_for_mark,
    write_project,
)

pytestmark = pytest.mark.skipif(not AGENTGO.exists(), reason="agentgo is not installed")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(tmp_path, workers=1)
    return tmp_path


def test_not_ready_while_starting(project: Path) -> None:
    """Before its lifespan has opened the store, the app says 'starting' and takes no work."""
    from agentgo_cli.config import load_config
    from agentgo_cli.server.app import create_app

    app = create_app(load_config(path=project / "agentgo.yaml").check())

    async def ask() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)  # no lifespan run: as while starting
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            return [
                await http.get("/readyz"),
                await http.get("/healthz"),
                await http.get("/v1/jobs", headers=headers("alice")),
            ]

    ready, health, work = asyncio.run(ask())
    assert (ready.status_code, ready.json()) == (503, {"status": "starting"})
    assert health.status_code == 200
    assert work.status_code == 503
    assert work.json()["error"]["message"] == "the server is starting or stopping; try again"


@pytest.fixture
def served(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadServer]:
    monkeypatch.setenv("AG_TEST_MARKS", str(project / "marks"))
    server = ThreadServer(project / "agentgo.yaml", workers=0)
    try:
        yield server
    finally:
        server.stop()


def test_a_stopping_server_is_not_ready_refuses_work_and_gives_its_jobs_up(
    served: ThreadServer, project: Path
) -> None:
    with served.client("alice") as http:
        job_id = http.post(
            "/v1/jobs", json={"workflow": "marked", "input_data": {"slow": 1}}
        ).json()["job_id"]
        wait_for_mark(project, "start", "two")
        with ThreadPoolExecutor(1) as pool, served.client("alice") as waiter:
            pending = pool.submit(waiter.get, f"/v1/jobs/{job_id}/wait")
            time.sleep(0.3)  # the wait is under way before the server stops
            stopping = asyncio.run_coroutine_threadsafe(served.state.stop(), served.loop)
            time.sleep(0.2)
            ready = http.get("/readyz")
            refused = http.post("/v1/jobs", json={"workflow": "quick"})
            stopping.result(30)
            waited = pending.result(30)
    assert (ready.status_code, ready.json()) == (503, {"status": "stopping"})
    assert refused.status_code == 503
    # The step in flight finished and was committed; the next one never started.
    status, owner, steps = job_state(project, job_id)
    assert (status, owner, steps) == ("queued", None, {"one": "succeeded", "two": "succeeded"})
    assert [(k, s) for k, _, s in marks(project)] == [
        ("start", "one"),
        ("end", "one"),
        ("start", "two"),
        ("end", "two"),
    ]
    # Who waited for it is told what became of it, not dropped.
    assert waited.status_code == 503
    assert waited.json()["error"]["message"] == (
        f"the server is stopping: job {job_id} was given up, to be resumed by the next server "
        f"or worker ('agentgo jobs watch {job_id}' follows it there)"
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_on_a_signal_running_jobs_stop_at_their_next_committed_step_and_it_exits_0(
    project: Path, sig: signal.Signals
) -> None:
    server = serve_remote(project, "--workers", "1")
    try:
        # One job a worker of the server runs (detached), one POST /v1/jobs runs itself.
        queued = agentgo(project, "-p", "remote", "run", "marked", "-i", "slow=1.5", "--detach")
        assert queued.returncode == 0, queued.stderr
        waiting = start_run(project, "marked", "-i", "slow=1.5", "-o", "json")
        deadline = time.monotonic() + 20
        while len([m for m in marks(project) if m[::2] == ("start", "two")]) < 2:
            assert time.monotonic() < deadline, marks(project)
            time.sleep(0.02)
        began = time.monotonic()
        server.signal(sig)
        code = server.wait(30)
        took = time.monotonic() - began
    finally:
        server.kill()
    _, err = waiting.communicate(timeout=30)
    assert code == 0, server.stderr
    assert took < 10, took  # the steps in flight had at most 1.5 s to go
    assert "Traceback" not in server.stderr
    assert waiting.returncode == 1 and "Traceback" not in err
    jobs = sorted({job for _, job, _ in marks(project)})
    assert len(jobs) == 2
    for job_id in jobs:
        status, owner, steps = job_state(project, job_id)
        assert (status, owner) == ("queued", None), job_id
        assert steps == {"one": "succeeded", "two": "succeeded"}
    if sig != signal.SIGTERM:
        return  # the same stop: what follows is shown once
    # The next server finishes both (its worker takes the queued jobs), redoing nothing.
    again = serve_remote(project, "--workers", "2")
    try:
        for job_id in jobs:
            assert finished(project, job_id) == {"labels": ["first", "second", "third"]}
    finally:
        assert again.stop() == 0
    for job_id in jobs:
        ran = [(k, s) for k, j, s in marks(project) if j == job_id]
        assert ran == [(k, s) for s in ("one", "two", "three") for k in ("start", "end")]


def test_a_second_signal_gives_the_jobs_up_at_once(project: Path) -> None:
    server = serve_remote(project, "--workers", "1")
    try:
        queued = agentgo(project, "-p", "remote", "run", "napping", "--detach", "-o", "json")
        job_id = json.loads(queued.stdout)["job_id"]
        deadline = time.monotonic() + 20
        while job_state(project, job_id)[2].get("long") != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        began = time.monotonic()
        server.signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.proc.poll() is None  # waiting for the 60 s step (serve.drain: 30 s)
        server.signal(signal.SIGTERM)
        code = server.wait(30)
        took = time.monotonic() - began
    finally:
        server.kill()
    assert code == 0, server.stderr
    assert took < 5, took
    status, owner, steps = job_state(project, job_id)
    assert (status, owner) == ("queued", None)
    assert steps["first"] == "succeeded" and steps["long"] != "succeeded"


def test_serve_drain_bounds_the_wait_for_steps_in_flight(project: Path) -> None:
    write_project(project, "drain: 0.5", workers=1)
    server = serve_remote(project, "--workers", "1")
    try:
        queued = agentgo(project, "-p", "remote", "run", "napping", "--detach", "-o", "json")
        job_id = json.loads(queued.stdout)["job_id"]
        deadline = time.monotonic() + 20
        while job_state(project, job_id)[2].get("long") != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        began = time.monotonic()
        server.signal(signal.SIGTERM)
        code = server.wait(30)
        took = time.monotonic() - began
    finally:
        server.kill()
    assert code == 0, server.stderr
    assert took < 5, took
    assert job_state(project, job_id)[:2] == ("queued", None)


def test_workers_0_is_an_api_only_node(project: Path) -> None:
    server = serve_remote(project, "--workers", "0")
    try:
        queued = agentgo(project, "-p", "remote", "run", "quick", "--detach", "-o", "json")
        job_id = json.loads(queued.stdout)["job_id"]
        time.sleep(1.5)  # three polls of a worker, had there been one
        shown = agentgo(project, "-p", "remote", "jobs", "show", job_id, "-o", "json")
        # It still answers the API: a run it does itself succeeds.
        ran = agentgo(project, "-p", "remote", "run", "quick", "-o", "json")
    finally:
        assert server.stop() == 0
    assert json.loads(shown.stdout)["status"] == "queued"
    assert json.loads(ran.stdout)["status"] == "succeeded"
