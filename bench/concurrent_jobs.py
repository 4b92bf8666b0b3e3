"""Benchmark: 10,000 concurrent jobs x 3 steps x 1 s of model latency, against LangGraph.

Budget (docs: ARCHITECTURE.md, performance budget): 10,000 concurrent jobs x 3 steps x 1 s
simulated model latency <= 4 s wall and <= 300 MiB peak RSS.

The workload: JOBS jobs of a 3-step pipeline (3 sequential ``agent`` steps, each a scripted
agent with ``latency: 1s`` replying a short text, each prompt reading the previous step's
output), all started at once (asyncio.gather over ``Engine.submit(..., run_here=True)`` +
``Engine.run(job)``) on a durable ``SQLiteJobStore`` file (synchronous=normal). The least
possible wall time is 3 s. AgentGo runs in a fresh subprocess of this script (``--child``)
that loads the manifests with ``load_set`` and does nothing else; it reports the wall time
of the load (first submit to last job finished), the peak RSS of the whole process
(``getrusage(RUSAGE_SELF).ru_maxrss``, which counts the imports too) and checks that every
job succeeded and is on record.

LangGraph runs the same load in a separate subprocess with its own environment
(bench/.venv-langgraph, set up with pip on first use, never the project's): 3 chained async
nodes each doing ``await asyncio.sleep(1)``, ``AsyncSqliteSaver`` on a file (WAL,
synchronous=NORMAL), JOBS concurrent ``ainvoke`` with distinct thread_ids, in LangGraph's
default durability mode (``async``; change it with --langgraph-durability). At 10,000 jobs
it takes about two minutes; --no-langgraph skips it.

Run: .venv/bin/python bench/concurrent_jobs.py [--jobs 10000] [--steps 3] [--latency 1s]
     [--dir DIR] [--no-langgraph]
Exit status: 0 when both budgets are met; 1 when one is missed, or when LangGraph could
not be installed or run (AgentGo's figures are still printed).
Standard library plus agentgo_cli in the AgentGo processes; no network access except the
one-off pip install of LangGraph into bench/.venv-langgraph.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (  # bench/ is on sys.path
    LANGGRAPH_VENV,
    PIPELINE,
    clean_env,
    langgraph_python,
    langgraph_versions,
    machine_check,
    pipeline_reply,
    run_langgraph_peer,
    write_pipeline,
)

BUDGET_WALL_S = 4.0
BUDGET_RSS_MIB = 300.0
HERE = Path(__file__).resolve()


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0}
    for unit in ("ms", "s", "m"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * units[unit]
    raise argparse.ArgumentTypeError(f"a duration such as 1s or 250ms, not {text!r}")


# -- the AgentGo child process ------------------------------------------------------------------


async def _child_load(manifests: Path, db: Path, jobs: int, steps: int) -> dict[str, Any]:
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.manifests.manifest_set import load_set
    from agentgo_cli.store.sqlite import SQLiteJobStore

    mset = load_set([manifests])
    if not mset.valid:
        problems = "; ".join(str(e) for e in mset.sorted_errors()[:5])
        raise SystemExit(f"concurrent_jobs: the pipeline manifests are invalid: {problems}")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    paths = [str(manifests)]
    expected = {"result": pipeline_reply(steps)}
    store = SQLiteJobStore(str(db), synchronous="normal")
    async with store.running():
        engine = Engine(store, mset)

        async def one() -> Any:
            job = await engine.submit(PIPELINE, {}, paths, run_here=True)
            return await engine.run(job)

        start = time.perf_counter()
        finals = await asyncio.gather(*(one() for _ in range(jobs)))
        wall = time.perf_counter() - start

        bad = [f for f in finals if f.status != "succeeded" or f.outputs != expected]
        listed = await store.list_jobs(status="succeeded", limit=jobs + 1)
        sample = await store.steps(finals[-1].id)
    if bad:
        raise SystemExit(f"concurrent_jobs: {len(bad)} job(s) did not succeed: {bad[0]}")
    if len(listed) != jobs or [r.status for r in sample] != ["succeeded"] * steps:
        raise SystemExit(f"concurrent_jobs: {len(listed)} succeeded jobs on record")
    return {
        "wall_s": wall,
        "rss_before_kib": rss_before,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def child(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    folder = Path(args.dir)
    figures = asyncio.run(
        _child_load(folder / "manifests", folder / "agentgo.db", args.jobs, args.steps)
    )
    figures["process_s"] = time.perf_counter() - started
    print(json.dumps({"figures": figures}))
    return 0


# -- the parent ---------------------------------------------------------------------------------


def run_agentgo(folder: Path, args: argparse.Namespace) -> tuple[dict[str, Any] | None, str]:
    """Run the AgentGo half in a fresh interpreter: (figures, "") or (None, why)."""
    home = folder / "home"
    home.mkdir()
    command = [
        sys.executable,
        str(HERE),
        "--child",
        f"--dir={folder}",
        f"--jobs={args.jobs}",
        f"--steps={args.steps}",
    ]
    start = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env=clean_env(home), cwd=home, check=False
    )
    elapsed = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n    ".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        return None, f"the AgentGo run exited {done.returncode}:\n    {tail}"
    figures: dict[str, Any] = json.loads(lines[-1])["figures"]
    figures["elapsed_s"] = elapsed
    return figures, ""


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _mib(kib: float) -> float:
    return kib / 1024.0


def _describe(figures: dict[str, Any]) -> list[str]:
    wall = figures["wall_s"]
    return [
        f"  wall time of the load  {wall:8.2f} s",
        f"  peak RSS               {_mib(figures['peak_rss_kib']):8.1f} MiB "
        f"(before the load: {_mib(figures['rss_before_kib']):.1f} MiB)",
        f"  whole process          {figures['process_s']:8.2f} s   (imports included)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10000, help="concurrent jobs (10000)")
    parser.add_argument("--steps", type=int, default=3, help="agent steps per job (3)")
    parser.add_argument("--latency", type=_seconds, default=1.0, help="model latency per step (1s)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    parser.add_argument("--no-langgraph", action="store_true", help="AgentGo's figures only")
    parser.add_argument(
        "--langgraph-venv",
        type=Path,
        default=LANGGRAPH_VENV,
        help="LangGraph's own environment, created on first use (bench/.venv-langgraph)",
    )
    parser.add_argument(
        "--langgraph-durability",
        choices=("async", "sync", "exit"),
        default="async",
        help="LangGraph's durability mode (its default: async)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds allowed for the LangGraph half"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.steps < 1:
        parser.error("--jobs and --steps must be at least 1")
    if args.child:
        return child(args)

    latency_text = f"{args.latency:g}s"
    floor = args.steps * args.latency
    print(
        f"concurrent_jobs: {args.jobs:,} concurrent jobs x {args.steps} agent steps x "
        f"{latency_text} model latency (least possible wall time {floor:g} s), "
        f"SQLite synchronous=normal, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="agentgo-bench-") as tmp:
        folder = Path(tmp)
        before = machine_check(folder)
        write_pipeline(folder / "manifests", steps=args.steps, latency=latency_text)
        ours, problem = run_agentgo(folder, args)
        from importlib.metadata import version

        print(
            f"\nAgentGo {version('agentgo_cli')} (Python {sys.version.split()[0]}), a fresh process"
        )
        if ours is None:
            print(f"  FAILED: {problem}")
            return 1
        for line in _describe(ours):
            print(line)

        theirs: dict[str, Any] | None = None
        missing = ""
        if not args.no_langgraph:
            print()
            python, missing = langgraph_python(args.langgraph_venv)
            if python is not None:
                peer_dir = folder / "langgraph"
                peer_dir.mkdir()
                peer_args = [
                    f"--dir={peer_dir}",
                    f"--jobs={args.jobs}",
                    f"--steps={args.steps}",
                    f"--latency={args.latency}",
                    f"--durability={args.langgraph_durability}",
                ]
                answer, missing = run_langgraph_peer(python, "concurrent", peer_args, args.timeout)
                if answer is not None:
                    theirs = answer["figures"]
                    print(f"LangGraph: {langgraph_versions(answer)}, a fresh process")
                    print(
                        "  AsyncSqliteSaver on a file, WAL, synchronous=NORMAL, "
                        f"durability={args.langgraph_durability}, a thread_id per job"
                    )
                    for line in _describe(theirs):
                        print(line)

        after = machine_check(folder)
    print(f"\nmachine check (a fixed Python loop, one fsync; lower is faster): {before} before,")
    print(f"  {after} after\n")
    wall, peak = ours["wall_s"], _mib(ours["peak_rss_kib"])
    wall_ok, rss_ok = wall <= BUDGET_WALL_S, peak <= BUDGET_RSS_MIB
    print(f"{_verdict(wall_ok)}: wall time {wall:7.2f} s     (budget <= {BUDGET_WALL_S:g} s)")
    print(f"{_verdict(rss_ok)}: peak RSS  {peak:7.1f} MiB   (budget <= {BUDGET_RSS_MIB:g} MiB)")
    if theirs is not None:
        print(
            f"LangGraph took {theirs['wall_s'] / wall:.1f}x AgentGo's wall time and "
            f"{_mib(theirs['peak_rss_kib']) / peak:.1f}x its peak RSS"
        )
    elif args.no_langgraph:
        print("(LangGraph skipped: --no-langgraph)")
    else:
        print(f"NO COMPARISON: LangGraph could not be measured: {missing}")
        return 1
    return 0 if wall_ok and rss_ok else 1


if __name__ == "__main__":
    sys.exit(main())
