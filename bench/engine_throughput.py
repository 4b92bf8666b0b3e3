"""Benchmark: durable steps per second of the engine, against LangGraph in the same run.

Budget (docs: ARCHITECTURE.md, performance budget): durable steps per second, SQLite,
scripted model with no latency, >= 4,000; and (this benchmark's brief) >= 10x LangGraph.

The workload is 200 jobs of a 5-step pipeline: 5 sequential ``agent`` steps, each a
scripted agent replying a short text, each prompt reading the previous step's output via
``${{ steps.<prev>.output }}``. The manifests are written to a temporary folder and loaded
with ``load_set``. AgentGo runs the jobs through ``Engine.submit(..., run_here=True)`` and
``Engine.run(job)`` on a fresh ``SQLiteJobStore`` file (synchronous=normal): first one job
after another, then all at once (asyncio.gather), each on its own fresh file. A few
untimed jobs on another file warm up the process first. Steps/s = jobs x steps / wall
seconds; each figure is the median of --runs runs.

LangGraph runs the same pipeline in its own environment (bench/.venv-langgraph, created
with pip on first use; never the project's): a StateGraph of 5 chained async nodes each
returning the same short text, compiled with ``AsyncSqliteSaver`` on a fresh file (WAL,
synchronous=NORMAL like AgentGo), one thread_id per invocation, in both of its durability
modes: ``async`` (its default: a checkpoint is written while the next node runs) and
``sync`` (each checkpoint is committed before the next node, as AgentGo commits a step
before it counts as done). The ratio is taken against the faster of the two modes.

Run: .venv/bin/python bench/engine_throughput.py [--jobs 200] [--steps 5] [--runs 3]
     [--dir DIR] [--no-langgraph]
Exit status: 0 when every budget is met; 1 when one is missed, or when LangGraph could not
be installed or run (AgentGo's figures are still printed).
Standard library plus agentgo_cli in this process; no network access except the one-off
pip install of LangGraph into bench/.venv-langgraph.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _common import (  # bench/ is on sys.path
    LANGGRAPH_VENV,
    PIPELINE,
    langgraph_python,
    langgraph_versions,
    machine_check,
    pipeline_reply,
    run_langgraph_peer,
    write_pipeline,
)

from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.manifests.manifest_set import ManifestSet, load_set
from agentgo_cli.store.sqlite import SQLiteJobStore

BUDGET_STEPS = 4000.0
BUDGET_RATIO = 10.0
WARMUP_JOBS = 20
DURABILITY = ("async", "sync")
MODES = {"sequential": "one after another", "concurrent": "{jobs} at once"}


async def _agentgo_once(
    mset: ManifestSet, manifests: Path, db: Path, jobs: int, steps: int, concurrent: bool
) -> float:
    """Run ``jobs`` pipeline jobs on a fresh store; return the wall seconds, after checking
    that every job succeeded and its steps are on record."""
    store = SQLiteJobStore(str(db), synchronous="normal")
    paths = [str(manifests)]
    expected = {"result": pipeline_reply(steps)}
    async with store.running():
        engine = Engine(store, mset)

        async def one() -> Any:
            job = await engine.submit(PIPELINE, {}, paths, run_here=True)
            return await engine.run(job)

        start = time.perf_counter()
        if concurrent:
            finals = await asyncio.gather(*(one() for _ in range(jobs)))
        else:
            finals = [await one() for _ in range(jobs)]
        wall = time.perf_counter() - start

        bad = [f for f in finals if f.status != "succeeded" or f.outputs != expected]
        if bad:
            raise SystemExit(f"engine_throughput: {len(bad)} job(s) failed: {bad[0]}")
        listed = await store.list_jobs(status="succeeded", limit=jobs + 1)
        if len(listed) != jobs:
            raise SystemExit(f"engine_throughput: {len(listed)} succeeded jobs on record")
        for final in (finals[0], finals[-1]):
            records = await store.steps(final.id)
            if [r.status for r in records] != ["succeeded"] * steps:
                raise SystemExit(f"engine_throughput: job {final.id} has steps {records}")
    return wall


def measure_agentgo(folder: Path, jobs: int, steps: int, runs: int) -> dict[str, list[float]]:
    manifests = write_pipeline(folder / "manifests", steps=steps)
    mset = load_set([manifests])
    if not mset.valid:
        problems = "\n  ".join(str(e) for e in mset.sorted_errors()[:10])
        raise SystemExit(f"engine_throughput: the pipeline manifests are invalid:\n  {problems}")
    asyncio.run(_agentgo_once(mset, manifests, folder / "warm.db", WARMUP_JOBS, steps, False))
    walls: dict[str, list[float]] = {"sequential": [], "concurrent": []}
    for run in range(runs):
        for label, concurrent in (("sequential", False), ("concurrent", True)):
            db = folder / f"agentgo-{label}-{run}.db"
            walls[label].append(
                asyncio.run(_agentgo_once(mset, manifests, db, jobs, steps, concurrent))
            )
    return walls


def _line(name: str, jobs: int, rate: float, runs: str, indent: int = 2) -> str:
    return f"{'':<{indent}}{name.format(jobs=jobs):<19}{rate:9,.0f} steps/s   ({runs})"


def _rates(walls: list[float], total_steps: int) -> tuple[float, str]:
    """(median steps/s, 'runs: a b c')."""
    rates = [total_steps / w for w in walls]
    return statistics.median(rates), "runs: " + " ".join(f"{r:,.0f}" for r in rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs per figure (default 200)")
    parser.add_argument("--steps", type=int, default=5, help="agent steps per job (default 5)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure, median (3)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    parser.add_argument("--no-langgraph", action="store_true", help="AgentGo's figures only")
    parser.add_argument(
        "--langgraph-venv",
        type=Path,
        default=LANGGRAPH_VENV,
        help="LangGraph's own environment, created on first use (bench/.venv-langgraph)",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds allowed for the LangGraph half"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.steps < 1 or args.runs < 1:
        parser.error("--jobs, --steps and --runs must be at least 1")
    total = args.jobs * args.steps

    print(
        f"engine_throughput: {args.jobs} jobs x {args.steps} agent steps = {total:,} durable "
        f"steps per figure, scripted model with no latency, SQLite synchronous=normal, "
        f"median of {args.runs} runs, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="agentgo-bench-") as tmp:
        folder = Path(tmp)
        before = machine_check(folder)
        walls = measure_agentgo(folder, args.jobs, args.steps, args.runs)
        ours = {label: _rates(w, total) for label, w in walls.items()}
        print(f"\nAgentGo {version('agentgo_cli')} (Python {sys.version.split()[0]})")
        for label in MODES:
            print(_line(MODES[label], args.jobs, *ours[label]))

        theirs: dict[str, dict[str, float]] = {}
        missing = ""
        if not args.no_langgraph:
            print()
            python, missing = langgraph_python(args.langgraph_venv)
            answer = None
            if python is not None:
                peer_dir = folder / "langgraph"
                peer_dir.mkdir()
                peer_args = [
                    f"--dir={peer_dir}",
                    f"--jobs={args.jobs}",
                    f"--steps={args.steps}",
                    f"--runs={args.runs}",
                    f"--durability={','.join(DURABILITY)}",
                ]
                answer, missing = run_langgraph_peer(python, "throughput", peer_args, args.timeout)
            if answer is not None:
                print(f"LangGraph: {langgraph_versions(answer)}")
                print("  AsyncSqliteSaver on a file, WAL, synchronous=NORMAL, a thread_id per job")
                for mode in DURABILITY:
                    figures = answer["figures"][mode]
                    print(f"  durability={mode}")
                    theirs[mode] = {}
                    for label in MODES:
                        rate, runs = _rates(figures[f"{label}_s"], total)
                        theirs[mode][label] = rate
                        print(_line(MODES[label], args.jobs, rate, runs, indent=4))

        after = machine_check(folder)
    print(f"\nmachine check (a fixed Python loop, one fsync; lower is faster): {before} before,")
    print(f"  {after} after\n")
    ok = True
    for label in MODES:
        rate = ours[label][0]
        verdict = "PASS" if rate >= BUDGET_STEPS else "FAIL"
        ok &= verdict == "PASS"
        what = MODES[label].format(jobs=args.jobs)
        print(f"{verdict}: {what:<17} {rate:8,.0f} steps/s       (budget >= {BUDGET_STEPS:,.0f})")
    for label in MODES:
        if not theirs:
            break
        best = max(theirs, key=lambda mode: theirs[mode][label])
        ratio = ours[label][0] / theirs[best][label]
        verdict = "PASS" if ratio >= BUDGET_RATIO else "FAIL"
        ok &= verdict == "PASS"
        what = MODES[label].format(jobs=args.jobs)
        print(
            f"{verdict}: {what:<17} {ratio:8.1f}x LangGraph   (budget >= {BUDGET_RATIO:.0f}x, "
            f"against its faster mode, durability={best}: {theirs[best][label]:,.0f} steps/s)"
        )
    if args.no_langgraph:
        print("(LangGraph skipped: --no-langgraph; the ratio is not judged)")
    elif not theirs:
        print(f"NO COMPARISON: LangGraph could not be measured: {missing}")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
