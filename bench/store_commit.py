"""Benchmark: awaited writes per second of the SQLite job store (group commit).

Target (the store's brief): well over 5,000 awaited ``step_finished`` per second from one
coroutine calling sequentially with ``synchronous=normal`` (each call is its own batch),
and far more when 1,000 coroutines call concurrently (their calls share commits). The
engine's budget (ARCHITECTURE.md) is >= 4,000 durable steps per second end to end.

For ``synchronous`` normal and full it measures, on a fresh database:

- sequential: one coroutine awaits ``step_finished`` N times, one call after another;
  also the mean and p99 latency of one call;
- engine pattern: one coroutine does ``step_started`` (not awaited for disk) then an
  awaited ``step_finished``, as the engine does for every step;
- concurrent: 1,000 coroutines each await ``step_finished`` in a loop; also the number of
  commits and the mean batch size.

Each figure is the median of --runs runs. Thread hand-offs dominate a sequential call: on
a VM whose idle vCPUs halt, waking the writer thread on the other CPU and waking the event
loop back costs ~50 us each. ``--pin`` runs the process on one CPU to show that share.

Run: .venv/bin/python bench/store_commit.py [--ops 5000] [--concurrency 1000] [--runs 3]
     [--dir DIR] [--pin]
Exit status: 0 when sequential normal meets 5,000 ops/s, 1 otherwise.
Standard library plus agentgo_cli only; no network access.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agentgo_cli.store.sqlite import SQLiteJobStore

TARGET_SEQUENTIAL = 5000.0
OUTPUT = {"text": "a step's output, about the size of a short model reply " * 4, "n": 1}


@dataclass
class Figures:
    sequential: float
    latency_mean_us: float
    latency_p99_us: float
    engine: float
    concurrent: float
    commits: int
    batch: float


async def _measure(folder: Path, synchronous: str, ops: int, concurrency: int) -> Figures:
    store = SQLiteJobStore(str(folder / f"{synchronous}.db"), synchronous=synchronous)
    async with store.running():
        job = await store.create_job("bench", {}, [])
        for i in range(min(500, ops)):  # warm up: statement cache, WAL file allocated
            await store.step_finished(job.id, f"warm{i}", "succeeded", output=OUTPUT)

        latencies = []
        start = time.perf_counter()
        for i in range(ops):
            t0 = time.perf_counter()
            await store.step_finished(job.id, f"seq{i}", "succeeded", output=OUTPUT, tokens=1)
            latencies.append(time.perf_counter() - t0)
        sequential = ops / (time.perf_counter() - start)

        start = time.perf_counter()
        for i in range(ops):
            await store.step_started(job.id, f"eng{i}", "step", "agent", 1)
            await store.step_finished(job.id, f"eng{i}", "succeeded", output=OUTPUT, tokens=1)
        engine = ops / (time.perf_counter() - start)

        per = max(1, ops * 4 // concurrency)

        async def caller(c: int) -> None:
            for i in range(per):
                await store.step_finished(job.id, f"c{c}.{i}", "succeeded", output=OUTPUT)

        assert store._writer is not None
        commits_before = store._writer.batches
        start = time.perf_counter()
        await asyncio.gather(*(caller(c) for c in range(concurrency)))
        concurrent = per * concurrency / (time.perf_counter() - start)
        commits = store._writer.batches - commits_before

    latencies.sort()
    return Figures(
        sequential=sequential,
        latency_mean_us=statistics.fmean(latencies) * 1e6,
        latency_p99_us=latencies[int(len(latencies) * 0.99)] * 1e6,
        engine=engine,
        concurrent=concurrent,
        commits=commits,
        batch=per * concurrency / max(commits, 1),
    )


def _median(runs: list[Figures]) -> Figures:
    def med(name: str) -> float:
        return float(statistics.median(getattr(f, name) for f in runs))

    return Figures(
        sequential=med("sequential"),
        latency_mean_us=med("latency_mean_us"),
        latency_p99_us=med("latency_p99_us"),
        engine=med("engine"),
        concurrent=med("concurrent"),
        commits=int(med("commits")),
        batch=med("batch"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=5000, help="sequential calls per run")
    parser.add_argument("--concurrency", type=int, default=1000, help="concurrent coroutines")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    parser.add_argument("--pin", action="store_true", help="run the process on one CPU")
    args = parser.parse_args(argv)

    if args.pin:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(
        f"store_commit: {args.ops} sequential calls, {args.concurrency} concurrent coroutines, "
        f"median of {args.runs} runs, {os.cpu_count()} CPUs{', pinned to one' if args.pin else ''}"
    )
    results: dict[str, Figures] = {}
    for synchronous in ("normal", "full"):
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(dir=args.dir, prefix="agentgo-bench-") as tmp:
                runs.append(
                    asyncio.run(_measure(Path(tmp), synchronous, args.ops, args.concurrency))
                )
        f = results[synchronous] = _median(runs)
        print(f"\nsynchronous={synchronous}")
        print(
            f"  sequential step_finished   {f.sequential:9,.0f} ops/s   "
            f"(mean {f.latency_mean_us:,.0f} us, p99 {f.latency_p99_us:,.0f} us)"
        )
        print(f"  engine pattern (start+end) {f.engine:9,.0f} steps/s")
        print(
            f"  {args.concurrency:,} concurrent coroutines {f.concurrent:9,.0f} ops/s   "
            f"({f.commits:,} commits, {f.batch:,.0f} writes per commit)"
        )
    ok = results["normal"].sequential >= TARGET_SEQUENTIAL
    verdict = "PASS" if ok else "FAIL"
    print(
        f"\n{verdict}: sequential normal {results['normal'].sequential:,.0f} ops/s "
        f"(target >= {TARGET_SEQUENTIAL:,.0f})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
