"""Benchmark: todo claims per second of the SQLite store (claim + complete of one todo).

A planner-workers team hands its planner's tasks to workers through a todo list in the job
store: each task costs a claim (one awaited transaction that picks the list's first
claimable todo, with a fresh fencing token) and a complete (one awaited transaction,
conditional on that token). This measures how many todos per second a list gets through.

For each run, on a fresh database (``synchronous=normal``):

- add: the N todos are added in one ``todo_add`` (todos per second);
- coroutines: W coroutines in one process claim and complete todos until none is left;
  also the number of commits per todo (claims and completes of different workers share
  commits);
- processes: the same W workers split over P processes of this script (``--child``),
  sharing the database file; each opens its own store, waits for a common start, and
  reports how many todos it completed and when it started and finished.

Every run checks that each todo was completed exactly once: the workers' wins (what
``todo_complete`` returned True for) add up to N, and the store holds N done todos. Each
figure is the median of --runs runs.

Run: .venv/bin/python bench/todo_claims.py [--todos 5000] [--workers 50] [--processes 4]
     [--runs 3] [--dir DIR]
Exit status: 0 when every todo was completed exactly once in every run, 1 otherwise.
Standard library plus agentgo_cli only; no network access.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agentgo_cli.store.sqlite import SQLiteJobStore

LIST = "j-bench:desk"
TTL_S = 30.0
TASK = {"task": "summarize one source for the report, in five sentences", "n": 0}


async def _work(store: SQLiteJobStore, owner: str) -> int:
    """Claim and complete todos until none is left; how many this worker completed."""
    won = 0
    while True:
        todo = await store.todo_claim(LIST, owner, TTL_S)
        if todo is None:
            return won
        assert todo.token is not None
        won += await store.todo_complete(LIST, todo.seq, todo.token, {"by": owner})


async def _fill(path: Path, todos: int) -> float:
    """Add the todos to a fresh store; todos added per second."""
    async with SQLiteJobStore(str(path)).running() as store:
        start = time.perf_counter()
        added = await store.todo_add(LIST, [{**TASK, "n": i} for i in range(todos)])
        rate = todos / (time.perf_counter() - start)
    if len(added) != todos:
        raise SystemExit(f"todo_claims: added {len(added)} todos, not {todos}")
    return rate


async def _done(path: Path) -> int:
    async with SQLiteJobStore(str(path)).running() as store:
        todos = await store.todos(LIST)
    return sum(todo.status == "done" for todo in todos)


async def _coroutines(path: Path, workers: int) -> tuple[float, int, int]:
    """(todos per second, todos won, commits) of W coroutines in this process."""
    async with SQLiteJobStore(str(path)).running() as store:
        assert store._writer is not None
        commits = store._writer.batches
        start = time.perf_counter()
        wins = await asyncio.gather(*(_work(store, f"w{i}") for i in range(workers)))
        seconds = time.perf_counter() - start
        commits = store._writer.batches - commits
    return sum(wins) / seconds, sum(wins), commits


async def _child(path: str, name: str, workers: int) -> None:
    """One process of the processes figure: ready, wait for go, work, report."""
    async with SQLiteJobStore(path).running() as store:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        started = time.time()
        wins = await asyncio.gather(*(_work(store, f"{name}.{i}") for i in range(workers)))
        print(json.dumps({"won": sum(wins), "start": started, "end": time.time()}), flush=True)


def _processes(path: Path, workers: int, processes: int) -> tuple[float, int]:
    """(todos per second, todos won) of W workers split over P processes."""
    shares = [workers // processes + (i < workers % processes) for i in range(processes)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", str(path), f"p{i}", str(share)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i, share in enumerate(shares)
        if share
    ]
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise SystemExit("todo_claims: a worker process failed to start")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        reports: list[dict[str, Any]] = []
        for child in children:
            out, _ = child.communicate(timeout=600)
            if child.returncode != 0:
                raise SystemExit(f"todo_claims: a worker process exited {child.returncode}")
            reports.append(json.loads(out))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    wall = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    won = sum(r["won"] for r in reports)
    return won / wall, won


def _check(what: str, todos: int, won: int, done: int) -> bool:
    if won == todos == done:
        return True
    print(f"  FAIL {what}: {won:,} completions reported, {done:,} todos done, of {todos:,}")
    return False


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--child"]:
        asyncio.run(_child(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--todos", type=int, default=5000, help="todos per run (5000)")
    parser.add_argument("--workers", type=int, default=50, help="concurrent workers (50)")
    parser.add_argument("--processes", type=int, default=4, help="processes; 0 skips (4)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    args = parser.parse_args(argv)
    if args.todos < 1 or args.workers < 1 or args.processes < 0 or args.runs < 1:
        parser.error("--todos, --workers and --runs must be at least 1, --processes 0 or more")
    print(
        f"todo_claims: {args.todos:,} todos, {args.workers} workers, claim + complete each, "
        f"SQLite synchronous=normal, median of {args.runs} runs, {os.cpu_count()} CPUs"
    )
    ok = True
    adds: list[float] = []
    inline: list[float] = []
    commits: list[float] = []
    spread: list[float] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(dir=args.dir, prefix="agentgo-bench-") as tmp:
            path = Path(tmp) / "coroutines.db"
            adds.append(asyncio.run(_fill(path, args.todos)))
            rate, won, batches = asyncio.run(_coroutines(path, args.workers))
            inline.append(rate)
            commits.append(batches / args.todos)
            ok &= _check("coroutines", args.todos, won, asyncio.run(_done(path)))
            if args.processes:
                path = Path(tmp) / "processes.db"
                asyncio.run(_fill(path, args.todos))
                rate, won = _processes(path, args.workers, args.processes)
                spread.append(rate)
                ok &= _check("processes", args.todos, won, asyncio.run(_done(path)))
    print(f"  add (one todo_add)                {statistics.median(adds):9,.0f} todos/s")
    print(
        f"  {args.workers} coroutines, one process      "
        f"{statistics.median(inline):9,.0f} todos/s   "
        f"({statistics.median(commits):.2f} commits per todo)"
    )
    if spread:
        print(
            f"  {args.workers} workers over {args.processes} processes   "
            f"{statistics.median(spread):9,.0f} todos/s"
        )
    print("PASS every todo completed exactly once" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
