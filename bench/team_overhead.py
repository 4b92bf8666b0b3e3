"""Benchmark: what running agents as a pipeline team costs, next to the same agents as steps.

The same scripted agents (no latency, a short text each) run in two shapes, in the same
process and the same run: engine_throughput's workflow of N ``agent`` steps (``stage-1`` …
``stage-N``, each prompt reading the previous step's output), and a workflow of one
``team:`` step whose Team has the protocol ``pipeline`` and one role per agent, in the same
order (each role given the previous role's output). Either way each job makes N model
turns, and each is a durable step record: a role turn is a step of the job (kind ``role``).
The team step's own record is part of the team's cost, so steps/s counts N steps per job in
both shapes. Each shape runs its jobs one after another and all at once, on a fresh
``SQLiteJobStore`` file (synchronous=normal) per figure, at the trace levels asked for
(``steps``, the profile's default, and ``full``, what ``agentgo init`` writes), the shapes
and levels taking turns run by run so that the machine's drift touches them alike.

It prints the median steps/s of each shape and its CPU time per step (the process's, the
store's writer thread included), and the overhead of a role turn over an agent step: in
microseconds (the extra time per turn, wall and CPU) and as a share of an agent step's
time. The CPU figures drift less than the wall ones when other work shares the machine.
Nothing is judged (ARCHITECTURE.md has no budget for teams); every run checks that every
job succeeded with the expected output and has the step records its shape says.

Run: .venv/bin/python bench/team_overhead.py [--jobs 200] [--roles 3] [--runs 9]
     [--trace steps,full] [--dir DIR]
Exit status: 0, or 1 when a job failed or its records are not as expected.
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

TEAM_WORKFLOW = "team-pipeline"
"""The workflow of one team step, beside engine_throughput's ``pipeline``."""
TEAM = "trio"
SHAPES = {"steps": "agent steps", "team": "pipeline team"}
LEVELS = ("steps", "full")
MODES = {"sequential": "one after another", "concurrent": "{jobs} at once"}
WARMUP_JOBS = 20


def write_manifests(folder: Path, roles: int) -> Path:
    """engine_throughput's agents and workflow, plus the Team of those agents as roles
    (``stage-1`` … played by the agent of that name) and the workflow running it."""
    write_pipeline(folder, steps=roles)
    team = [
        "apiVersion: agentgo/v1",
        "kind: Team",
        "metadata:",
        f"  name: {TEAM}",
        "spec:",
        "  protocol: pipeline",
        "  roles:",
        *(f"    - {{name: stage-{i}, agent: stage-{i}}}" for i in range(1, roles + 1)),
    ]
    workflow = [
        "apiVersion: agentgo/v1",
        "kind: Workflow",
        "metadata:",
        f"  name: {TEAM_WORKFLOW}",
        "spec:",
        "  inputs:",
        "    topic: {type: string, default: bench}",
        "  steps:",
        "    - id: desk",
        f"      team: {TEAM}",
        '      input: "Go on from: ${{ inputs.topic }}"',
        "  outputs:",
        "    result: ${{ steps.desk.output }}",
    ]
    text = "\n".join(team) + "\n---\n" + "\n".join(workflow) + "\n"
    (folder / "team.yaml").write_text(text, encoding="utf-8")
    return folder


async def _once(
    mset: ManifestSet, paths: list[str], db: Path, jobs: int, roles: int, *, shape: str,
    level: str, concurrent: bool,
) -> tuple[float, float]:  # fmt: skip
    """Run ``jobs`` jobs of one shape at one trace level on a fresh store; return the wall
    and CPU seconds, after checking every job's output and the first and last job's records."""
    expected = {"result": pipeline_reply(roles)}
    workflow = TEAM_WORKFLOW if shape == "team" else PIPELINE
    want = ["succeeded"] * (roles + (shape == "team"))  # the team step has its own record
    async with SQLiteJobStore(str(db), synchronous="normal").running() as store:
        engine = Engine(store, mset, trace=level)  # type: ignore[arg-type]

        async def one() -> Any:
            return await engine.run(await engine.submit(workflow, {}, paths, run_here=True))

        start, cpu = time.perf_counter(), time.process_time()
        if concurrent:
            finals = await asyncio.gather(*(one() for _ in range(jobs)))
        else:
            finals = [await one() for _ in range(jobs)]
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        bad = [f for f in finals if f.status != "succeeded" or f.outputs != expected]
        if bad:
            raise SystemExit(f"team_overhead: {len(bad)} {shape} job(s) failed: {bad[0]}")
        for final in (finals[0], finals[-1]):
            records = await store.steps(final.id)
            if [r.status for r in records] != want:
                raise SystemExit(f"team_overhead: {shape} job {final.id} has steps {records}")
        if shape == "team" and sorted(r.kind for r in records) != ["role"] * roles + ["team"]:
            raise SystemExit(f"team_overhead: the team job's records are {records}")
    return wall, cpu


Key = tuple[str, str, str]
"""(shape, trace level, mode)."""
Walls = dict[Key, list[tuple[float, float]]]
"""Wall and CPU seconds of each run, by figure."""


def measure(folder: Path, jobs: int, roles: int, runs: int, levels: list[str]) -> Walls:
    manifests = write_manifests(folder / "manifests", roles)
    mset = load_set([manifests])
    if not mset.valid:
        raise SystemExit(f"team_overhead: invalid manifests: {mset.sorted_errors()[:3]}")
    paths = [str(manifests)]
    combos = [(shape, level) for level in levels for shape in SHAPES]
    for shape, level in combos:  # warm every path of the code first
        db = folder / f"warm-{shape}-{level}.db"
        asyncio.run(
            _once(mset, paths, db, WARMUP_JOBS, roles, shape=shape, level=level, concurrent=False)
        )
    walls: Walls = {}
    for run in range(runs):
        for mode in MODES:
            for shape, level in combos if run % 2 == 0 else reversed(combos):
                db = folder / f"{shape}-{level}-{mode}-{run}.db"
                took = asyncio.run(
                    _once(mset, paths, db, jobs, roles, shape=shape, level=level,
                          concurrent=mode == "concurrent")
                )  # fmt: skip
                walls.setdefault((shape, level, mode), []).append(took)
    return walls


def _overhead(level: str, what: str, step_us: float, turn_us: float) -> str:
    """'a role turn costs +30 us wall over an agent step's 70 us (+42.9%)'."""
    return (
        f"  trace={level:<6}a role turn costs {turn_us - step_us:+.0f} us {what} over an agent "
        f"step's {step_us:.0f} us ({turn_us / step_us - 1:+.1%})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs per figure (default 200)")
    parser.add_argument(
        "--roles", type=int, default=3, help="roles of the team = agent steps (default 3)"
    )
    parser.add_argument("--runs", type=int, default=9, help="runs per figure, median (9)")
    parser.add_argument(
        "--trace",
        default=",".join(LEVELS),
        help="trace levels to measure, comma-separated: off, steps, full (default steps,full)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.roles < 1 or args.runs < 1:
        parser.error("--jobs, --roles and --runs must be at least 1")
    levels = [level.strip() for level in args.trace.split(",") if level.strip()]
    if not levels or any(level not in ("off", "steps", "full") for level in levels):
        parser.error("--trace takes off, steps and full, comma-separated")
    total = args.jobs * args.roles
    print(
        f"team_overhead: {args.jobs} jobs x {args.roles} model turns = {total:,} durable steps "
        f"per figure, as {args.roles} agent steps or a pipeline team of {args.roles} roles "
        f"(role turns count as steps), scripted model with no latency, SQLite "
        f"synchronous=normal, median of {args.runs} runs, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="agentgo-bench-") as tmp:
        folder = Path(tmp)
        before = machine_check(folder)
        walls = measure(folder, args.jobs, args.roles, args.runs, levels)
        after = machine_check(folder)
    rates = {key: statistics.median(total / w for w, _ in ws) for key, ws in walls.items()}
    cpu_us = {key: statistics.median(c for _, c in ws) / total * 1e6 for key, ws in walls.items()}
    for mode, what in MODES.items():
        print(f"\n{what.format(jobs=args.jobs)}:")
        for level in levels:
            for shape, name in SHAPES.items():
                key = (shape, level, mode)
                runs = " ".join(f"{total / w:,.0f}" for w, _ in walls[key])
                print(
                    f"  trace={level:<6}{name:<15}{rates[key]:9,.0f} steps/s  "
                    f"{cpu_us[key]:5.0f} us CPU/step   (runs: {runs})"
                )
            print(_overhead(level, "wall", 1e6 / rates[("steps", level, mode)],
                            1e6 / rates[("team", level, mode)]))  # fmt: skip
            print(_overhead(level, "CPU", cpu_us[("steps", level, mode)],
                            cpu_us[("team", level, mode)]))  # fmt: skip
    print(f"\nmachine check (a fixed Python loop, one fsync; lower is faster): {before} before,")
    print(f"  {after} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
