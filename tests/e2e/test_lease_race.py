"""Race resumers and workers, each a real process, on the same abandoned jobs.

Jobs are seeded as running under an owner that died (its lease still live, or expired),
some steps already finished, one perhaps in flight at the crash. Then several
``resume`` children per job and a few ``worker --once`` children start at one instant
(tests/e2e/_race_child.py). Every step is a python tool that appends (job, step, pid,
idempotency key) to a file. Whatever the interleaving: a step never runs in two processes
(except the one in flight at the crash, then again under the same idempotency key), a
finished step never runs again, and every job ends exactly once.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from agentgo_cli.store import open_store

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("_race_child.py")
STEPS = 6
JOBS = 3
RESUMERS = 2
WORKERS = 2

WORKFLOW = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: record}
spec:
  input: {type: object, required: [label], properties: {label: {type: string}}}
  runtime: {type: python, entrypoint: "tests.e2e.race_tools:record"}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: race}
spec:
  steps:
""" + "".join(
    f"    - {{id: s{i}, tool: record, with: {{label: s{i}}}}}\n" for i in range(1, STEPS + 1)
)

ALLOWED_REFUSALS = ("was taken by another process", "is running under")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def _seed(url: str, wf: Path, marks: Path, rng: random.Random) -> dict[str, dict]:
    """Jobs abandoned mid-run: {job id: {'finished': keys, 'inflight': key or None}}."""
    dead = f"{socket.gethostname()}:{_dead_pid()}:0badf00d"
    seeded: dict[str, dict] = {}
    store = open_store(url)
    await store.start()
    try:
        for _ in range(JOBS):
            if rng.random() < 0.5:  # a dead owner on this host, its lease still live
                owner, seconds = dead, 60.0
            else:  # an owner elsewhere whose lease expired
                owner, seconds = "elsewhere:1:0badf00d", -1.0
            job = await store.create_job(
                "race", {}, [str(wf)], status="running", lease_owner=owner, lease_seconds=seconds
            )
            finished = [f"s{i}" for i in range(1, rng.randint(0, 3) + 1)]
            for key in finished:
                await store.step_started(job.id, key, key, "tool", 1)
                await store.step_finished(job.id, key, "succeeded", output={"label": key})
            inflight = None
            if rng.random() < 0.7:  # the next step was running when the owner died
                inflight = f"s{len(finished) + 1}"
                await store.step_started(job.id, inflight, inflight, "tool", 1)
                with marks.open("a") as f:
                    f.write(f"{job.id}\t{inflight}\t{dead.split(':')[1]}\t{job.id}:{inflight}\n")
            seeded[job.id] = {"finished": finished, "inflight": inflight}
    finally:
        await store.close()
    return seeded


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_racing_resumers_and_workers_run_each_step_once(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    (tmp_path / "wf").mkdir()
    (tmp_path / "wf" / "race.yaml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_path / "agentgo.yaml").write_text(
        "profile: p\nprofiles:\n  p: {store: 'sqlite:///state/agentgo.db'}\n", encoding="utf-8"
    )
    db = tmp_path / "state" / "agentgo.db"
    marks = tmp_path / "marks.txt"
    seeded = asyncio.run(_seed(f"sqlite:///{db}", tmp_path / "wf", marks, rng))

    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGO_")}
    env.update(AGENTGO_TEST_MARKS=str(marks), PYTHONPATH=str(REPO))
    argv = [["resume", job_id] for job_id in seeded for _ in range(RESUMERS)]
    argv += [["worker"]] * WORKERS
    rng.shuffle(argv)
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), str(go), *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in argv
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("go.ready.*"))) < len(children):
            assert all(c.poll() is None for c in children), [c.communicate() for c in children]
            assert time.monotonic() < deadline, "the children never got ready"
            time.sleep(0.01)
        go.touch()
        results = [
            (args, *c.communicate(timeout=90), c.returncode)
            for args, c in zip(argv, children, strict=True)
        ]
    finally:
        for child in children:
            child.kill()
            child.wait()

    for args, _, err, code in results:
        assert code in (0, 2), f"{args}: exit {code}: {err}"
        if code == 2:
            assert any(text in err for text in ALLOWED_REFUSALS), f"{args}: {err}"

    runs: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for line in marks.read_text().splitlines():
        job_id, key, pid, idem = line.split("\t")
        runs[job_id, key].append((pid, idem))
    with sqlite3.connect(db) as conn:
        for job_id, seen in seeded.items():
            status, error = conn.execute(
                "SELECT status, error FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            assert (status, error) == ("succeeded", None), job_id
            ends = conn.execute(
                "SELECT count(*) FROM events WHERE job_id = ? AND kind = 'job' "
                "AND message LIKE 'succeeded%'",
                (job_id,),
            ).fetchone()[0]
            assert ends == 1, f"{job_id} ended {ends} times"
            steps = dict(conn.execute("SELECT key, status FROM steps WHERE job_id = ?", (job_id,)))
            assert steps == {f"s{i}": "succeeded" for i in range(1, STEPS + 1)}
            for i in range(1, STEPS + 1):
                key = f"s{i}"
                ran = runs.get((job_id, key), [])
                if key in seen["finished"]:
                    assert ran == [], f"{job_id} {key} finished before and ran again: {ran}"
                elif key == seen["inflight"]:
                    # Once at the crash, once more after it, under the same key.
                    assert len(ran) == 2, f"{job_id} {key} ran {ran}"
                    assert {idem for _, idem in ran} == {f"{job_id}:{key}"}
                else:
                    assert len(ran) == 1, f"{job_id} {key} ran in {len(ran)} processes: {ran}"
