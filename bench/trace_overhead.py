"""Benchmark: what recording a job's trace costs, in durable steps per second.

Budget (docs: ARCHITECTURE.md, performance budget): metrics + traces + audit all on, at most
10 % fewer steps/s than all off. This script measures the trace part of it.

The workload is engine_throughput's: jobs of a pipeline of ``agent`` steps, each a scripted
agent (no latency) replying a short text, each prompt reading the previous step's output,
so that every step makes one model turn. The same manifests run, in the same process and
the same run, with the profile's three trace levels: ``off`` (no recorder: no event is
made; nothing is recorded), ``steps`` (events are made; a step that runs once leaves no
trace row, its step record says it all) and ``full`` (also a row per model turn, with the
messages sent and the reply). Each level runs its jobs one after another and all at once,
each figure on a fresh ``SQLiteJobStore`` file (synchronous=normal), the levels taking
turns run by run so that the machine's drift touches them alike. Steps/s = jobs x steps /
wall seconds; each figure is the median of --runs runs. The ratio to ``off`` is printed
for each level, and ``full`` is judged against the 10 % budget.

Run: .venv/bin/python bench/trace_overhead.py [--jobs 200] [--steps 5] [--runs 5] [--dir DIR]
Exit status: 0 when the budget is met, 1 when it is missed.
Standard library plus agentgo_cli in this process; no network access.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PIPELINE, machine_check, pipeline_reply, write_pipeline  # bench/ on path

from agentgo_cli.engine.scheduler import Engine
from agentgo_cli.manifests.manifest_set import ManifestSet, load_set
from agentgo_cli.store.sqlite import SQLiteJobStore

BUDGET_SHARE = 0.10
"""At most this share fewer steps/s with the default trace level than with none."""
JUDGED = "steps"
"""The profile's default ``trace:`` level, the one the budget applies to; ``full`` (what
``agentgo init`` writes) is measured and printed, not judged."""
LEVELS = ("off", "steps", "full")
MODES = {"sequential": "one after another", "concurrent": "{jobs} at once"}
WARMUP_JOBS = 20


async def _once(
    mset: ManifestSet, paths: list[str], db: Path, jobs: int, steps: int, *, level: str,
    concurrent: bool,
) -> float:  # fmt: skip
    """Run ``jobs`` pipeline jobs at one trace level on a fresh store; return the wall
    seconds, after checking every job succeeded and the trace holds what the level says."""
    expected = {"result": pipeline_reply(steps)}
    async with SQLiteJobStore(str(db), synchronous="normal").running() as store:
        engine = Engine(store, mset, trace=level)  # type: ignore[arg-type]

        async def one() -> Any:
            return await engine.run(await engine.submit(PIPELINE, {}, paths, run_here=True))

        start = time.perf_counter()
        if concurrent:
            finals = await asyncio.gather(*(one() for _ in range(jobs)))
        else:
            finals = [await one() for _ in range(jobs)]
        wall = time.perf_counter() - start
        bad = [f for f in finals if f.status != "succeeded" or f.outputs != expected]
        if bad:
            raise SystemExit(f"trace_overhead: {len(bad)} job(s) failed: {bad[0]}")
        records = await store.trace(finals[-1].id)
        want = {"off": 0, "steps": 0, "full": steps}[level]  # one turn per step
        if len(records) != want:
            raise SystemExit(
                f"trace_overhead: trace={level} recorded {len(records)} nodes, not {want}"
            )
    return wall


def measure(folder: Path, jobs: int, steps: int, runs: int) -> dict[tuple[str, str], list[float]]:
    manifests = write_pipeline(folder / "manifests", steps=steps)
    mset = load_set([manifests])
    if not mset.valid:
        raise SystemExit(f"trace_overhead: invalid manifests: {mset.sorted_errors()[:3]}")
    paths = [str(manifests)]
    for level in LEVELS:  # warm every path of the code first
        asyncio.run(
            _once(mset, paths, folder / f"warm-{level}.db", WARMUP_JOBS, steps, level=level,
                  concurrent=False)
        )  # fmt: skip
    walls: dict[tuple[str, str], list[float]] = {}
    for run in range(runs):
        for mode in MODES:
            for level in LEVELS if run % 2 == 0 else reversed(LEVELS):
                db = folder / f"{level}-{mode}-{run}.db"
                wall = asyncio.run(
                    _once(mset, paths, db, jobs, steps, level=level,
                          concurrent=mode == "concurrent")
                )  # fmt: skip
                walls.setdefault((level, mode), []).append(wall)
    return walls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs per figure (default 200)")
    parser.add_argument("--steps", type=int, default=5, help="agent steps per job (default 5)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure, median (5)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.steps < 1 or args.runs < 1:
        parser.error("--jobs, --steps and --runs must be at least 1")
    total = args.jobs * args.steps
    print(
        f"trace_overhead: {args.jobs} jobs x {args.steps} agent steps = {total:,} durable steps "
        f"per figure, one model turn per step, SQLite synchronous=normal, median of {args.runs} "
        f"runs, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="agentgo-bench-") as tmp:
        folder = Path(tmp)
        before = machine_check(folder)
        walls = measure(folder, args.jobs, args.steps, args.runs)
        after = machine_check(folder)
    rates = {key: statistics.median(total / w for w in ws) for key, ws in walls.items()}
    ok = True
    for mode, what in MODES.items():
        print(f"\n{what.format(jobs=args.jobs)}:")
        base = rates[("off", mode)]
        for level in LEVELS:
            rate = rates[(level, mode)]
            runs = " ".join(f"{total / w:,.0f}" for w in walls[(level, mode)])
            share = f"{rate / base:6.1%}"
            print(f"  trace={level:<6}{rate:9,.0f} steps/s  {share} of off   (runs: {runs})")
        share = 1 - rates[(JUDGED, mode)] / base
        verdict = "PASS" if share <= BUDGET_SHARE else "FAIL"
        ok &= verdict == "PASS"
        budget = f"(budget <= {BUDGET_SHARE:.0%}, judged at the default level)"
        print(f"  {verdict}: trace={JUDGED} costs {share:.1%} of the steps/s {budget}")
        full = 1 - rates[("full", mode)] / base
        per_turn = (total / rates[("full", mode)] - total / base) / total * 1e6
        print(
            f"  (not judged) trace=full costs {full:.1%}: about {per_turn:.0f} us per "
            "recorded turn, nothing beside a real model's latency"
        )
    print(f"\nmachine check (a fixed Python loop, one fsync; lower is faster): {before} before,")
    print(f"  {after} after")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
