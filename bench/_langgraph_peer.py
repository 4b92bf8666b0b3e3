"""The LangGraph half of the engine benchmarks; runs with bench/.venv-langgraph's Python.

It is never imported by the project or run with the project's interpreter: the benchmark
scripts start it as ``bench/.venv-langgraph/bin/python -I bench/_langgraph_peer.py MODE``,
and it prints one JSON object on its last line of output.

The workload mirrors AgentGo's benchmark pipeline: a StateGraph of N nodes in a chain
(``s1`` → ``s2`` → … ``sN``); node ``si`` reads the previous node's output from the state,
optionally waits (``asyncio.sleep``, standing in for a model turn) and returns a short text,
``"stage i done"``, the reply of AgentGo's scripted agent ``stage-i``. The graph is compiled
with ``AsyncSqliteSaver`` on a SQLite file; the connection is put in ``synchronous=NORMAL``
like AgentGo's store (the saver itself turns on WAL), so both sides pay the same for a
commit. Every invocation has its own ``thread_id``.

Modes
  throughput  JOBS invocations one after another, then JOBS at once (asyncio.gather), each
              on a fresh database file, RUNS times, for each durability mode asked for.
  concurrent  JOBS invocations at once, once; wall time of the load and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypedDict

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph

PACKAGES = ("langgraph", "langgraph-checkpoint-sqlite", "langgraph-checkpoint", "aiosqlite")


def versions() -> dict[str, str]:
    found: dict[str, str] = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "?"
    return found


def build_graph(steps: int, latency: float) -> StateGraph:
    """The pipeline: ``steps`` async nodes in a chain, each replying a short text."""
    fields: dict[str, Any] = {"topic": str, **{f"s{i}": str for i in range(1, steps + 1)}}
    state = TypedDict("Pipeline", fields, total=False)
    graph = StateGraph(state)

    def node(i: int) -> Any:
        key, prev, reply = f"s{i}", f"s{i - 1}" if i > 1 else "topic", f"stage {i} done"

        async def run(values: dict[str, Any]) -> dict[str, str]:
            _prompt = f"Go on from: {values[prev]}"  # as AgentGo renders its step prompt
            if latency > 0:
                await asyncio.sleep(latency)
            return {key: reply}

        return run

    for i in range(1, steps + 1):
        graph.add_node(f"s{i}", node(i))
    graph.add_edge(START, "s1")
    for i in range(1, steps):
        graph.add_edge(f"s{i}", f"s{i + 1}")
    graph.add_edge(f"s{steps}", END)
    return graph


class Saver:
    """An AsyncSqliteSaver on a fresh file, its connection in synchronous=NORMAL."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def __aenter__(self) -> AsyncSqliteSaver:
        self.conn = await aiosqlite.connect(str(self.path))
        await self.conn.execute("PRAGMA synchronous = NORMAL")
        saver = AsyncSqliteSaver(self.conn)
        await saver.setup()  # creates the tables, turns on WAL
        return saver

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.close()


async def invoke(app: Any, steps: int, thread: str, durability: str) -> None:
    config = {"configurable": {"thread_id": thread}}
    state = await app.ainvoke({"topic": "bench"}, config, durability=durability)
    if state.get(f"s{steps}") != f"stage {steps} done":
        raise RuntimeError(f"thread {thread}: unexpected final state {state!r}")


async def check_saved(saver: AsyncSqliteSaver, threads: list[str], steps: int) -> None:
    """The last checkpoint of a few threads holds the final output (it was persisted)."""
    for thread in {threads[0], threads[len(threads) // 2], threads[-1]}:
        saved = await saver.aget_tuple({"configurable": {"thread_id": thread}})
        values = saved.checkpoint["channel_values"] if saved is not None else {}
        if values.get(f"s{steps}") != f"stage {steps} done":
            raise RuntimeError(f"thread {thread}: no final checkpoint in {saver}")


async def throughput(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(args.dir)
    graph = build_graph(args.steps, 0.0)
    results: dict[str, Any] = {}
    for durability in args.durability.split(","):
        async with Saver(folder / f"warm-{durability}.db") as saver:
            app = graph.compile(checkpointer=saver)
            for i in range(min(20, args.jobs)):
                await invoke(app, args.steps, f"warm-{i}", durability)
        sequential: list[float] = []
        concurrent: list[float] = []
        for run in range(args.runs):
            for label, out in (("seq", sequential), ("conc", concurrent)):
                async with Saver(folder / f"{label}-{durability}-{run}.db") as saver:
                    app = graph.compile(checkpointer=saver)
                    threads = [f"{label}-{run}-{i}" for i in range(args.jobs)]
                    start = time.perf_counter()
                    if label == "seq":
                        for thread in threads:
                            await invoke(app, args.steps, thread, durability)
                    else:
                        await asyncio.gather(
                            *(invoke(app, args.steps, t, durability) for t in threads)
                        )
                    out.append(time.perf_counter() - start)
                    await check_saved(saver, threads, args.steps)
        results[durability] = {"sequential_s": sequential, "concurrent_s": concurrent}
    return results


async def concurrent(args: argparse.Namespace) -> dict[str, Any]:
    graph = build_graph(args.steps, args.latency)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with Saver(Path(args.dir) / "langgraph.db") as saver:
        app = graph.compile(checkpointer=saver)
        threads = [f"job-{i}" for i in range(args.jobs)]
        start = time.perf_counter()
        await asyncio.gather(*(invoke(app, args.steps, t, args.durability) for t in threads))
        wall = time.perf_counter() - start
        await check_saved(saver, threads, args.steps)
    return {
        "wall_s": wall,
        "rss_before_kib": rss_before,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("throughput", "concurrent"))
    parser.add_argument("--dir", required=True, help="folder for the database files")
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per node")
    parser.add_argument(
        "--durability", default="async", help="LangGraph durability mode(s), comma-separated"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    figures = asyncio.run(throughput(args) if args.mode == "throughput" else concurrent(args))
    figures["process_s"] = time.perf_counter() - started
    print(json.dumps({"versions": versions(), "figures": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
