"""Benchmark: how fast `agentgo --help` starts, and what it imports.

Budget (docs: ARCHITECTURE.md, performance budget): `agentgo --help`, cold, <= 150 ms.

Each run starts a fresh process of the installed entry point (.venv/bin/agentgo) with
stdout sent to /dev/null; two warm-up runs come first so the OS file cache is warm. Then
the script reports the heaviest imports (`python -X importtime`) and checks that no heavy
SDK or library was imported just to print the help text.

Run: .venv/bin/python bench/startup.py [--runs 20] [--warmup 2]
Exit status: 0 when every check passes, 1 when one fails.
Standard library only; no network access.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from _common import clean_env, find_agentgo  # bench/ is on sys.path

BUDGET_MS = 150.0
REPO = Path(__file__).resolve().parent.parent

FORBIDDEN = (
    "pydantic",
    "jinja2",
    "jsonschema",
    "openai",
    "anthropic",
    "google.genai",
    "httpx",
    "docker",
    "rich",
)
"""Modules that must not be imported by `agentgo --help` (the names and their submodules)."""

HELP_CODE = """\
import contextlib, io, json, sys
from agentgo_cli.cli.app import main
sys.argv = ["agentgo", "--help"]
code = None
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""
"""Run the app in-process with --help, then list sys.modules (as JSON on stdout)."""

IMPORTTIME_CODE = """\
import contextlib, io, sys
from agentgo_cli.cli.app import main
sys.argv = ["agentgo", "--help"]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
"""


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) with linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def time_help(agentgo: Path, runs: int, warmup: int, env: dict[str, str], cwd: Path) -> list[float]:
    """Wall time in ms of `agentgo --help`, each a fresh process."""
    times: list[float] = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [str(agentgo), "--help"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            check=False,
        )
        elapsed = (time.perf_counter() - start) * 1000
        if proc.returncode != 0:
            detail = proc.stderr.decode(errors="replace")
            sys.exit(f"`agentgo --help` exited {proc.returncode}:\n{detail}")
        if i >= warmup:
            times.append(elapsed)
    return times


class Import(NamedTuple):
    """One line of `-X importtime`: times in microseconds, depth = nesting level."""

    name: str
    depth: int
    self_us: int
    cum_us: int


def parse_importtime(stderr: str) -> list[Import]:
    """One Import per line of `-X importtime` output."""
    rows: list[Import] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        try:
            self_us, cum_us, name = line[len("import time:") :].split("|", 2)
            stripped = name.lstrip(" ")
            depth = (len(name) - len(stripped) - 1) // 2
            rows.append(Import(stripped.strip(), depth, int(self_us), int(cum_us)))
        except ValueError:
            continue
    return rows


def import_profile(env: dict[str, str], cwd: Path, repeats: int = 3) -> list[Import]:
    """Per module: the smallest self and cumulative import time over a few cold runs."""
    best_cum: dict[str, int] = {}
    best_self: dict[str, int] = {}
    depth: dict[str, int] = {}
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", IMPORTTIME_CODE],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            text=True,
            check=False,
        )
        for name, d, self_us, cum_us in parse_importtime(proc.stderr):
            best_cum[name] = min(best_cum.get(name, cum_us), cum_us)
            best_self[name] = min(best_self.get(name, self_us), self_us)
            depth.setdefault(name, d)
    return [Import(n, depth[n], best_self[n], best_cum[n]) for n in best_cum]


def modules_after_help(env: dict[str, str], cwd: Path) -> tuple[object, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", HELP_CODE],
        capture_output=True,
        env=env,
        cwd=cwd,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"in-process --help failed ({proc.returncode}):\n{proc.stderr}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["exit"], list(data["modules"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    parser.add_argument("--top", type=int, default=15, help="imports to list (default 15)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    agentgo = find_agentgo("startup.py")
    ok = True
    with tempfile.TemporaryDirectory(prefix="agentgo-bench-") as tmp:
        home = Path(tmp)
        env = clean_env(home)

        print(f"agentgo --help, cold process ({agentgo})")
        times = time_help(agentgo, args.runs, args.warmup, env, home)
        med = statistics.median(times)
        verdict = "PASS" if med <= BUDGET_MS else "FAIL"
        ok &= verdict == "PASS"
        print(
            f"  runs={len(times)} (after {args.warmup} warm-up)  "
            f"min={min(times):.1f} ms  median={med:.1f} ms  "
            f"p90={percentile(times, 0.9):.1f} ms  max={max(times):.1f} ms"
        )
        print(f"  budget: median <= {BUDGET_MS:.0f} ms  -> {verdict}")

        # Python alone, for scale: what the interpreter costs before any of our code.
        bare: list[float] = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, cwd=home, check=True)
            bare.append((time.perf_counter() - start) * 1000)
        print(f"  for scale: bare `python -c pass` median={statistics.median(bare):.1f} ms")

        print()
        rows = import_profile(env, home)
        total = sum(r.self_us for r in rows)
        print(
            f"imports during --help (python -X importtime, best of 3): {len(rows)} modules, "
            f"{total / 1000:.1f} ms of import time in total"
        )
        print(f"  top {args.top} by cumulative time (ms; depth = nesting level):")
        print(f"    {'cumul':>7} {'self':>7}  depth  module")
        for r in sorted(rows, key=lambda r: r.cum_us, reverse=True)[: args.top]:
            print(f"    {r.cum_us / 1000:7.1f} {r.self_us / 1000:7.1f}  {r.depth:>5}  {r.name}")
        per_pkg: dict[str, int] = {}
        for r in rows:
            top = r.name.split(".")[0]
            per_pkg[top] = per_pkg.get(top, 0) + r.self_us
        print("  self time by top-level package (ms):")
        for pkg, us in sorted(per_pkg.items(), key=lambda kv: kv[1], reverse=True)[:10]:
            print(f"    {us / 1000:7.1f}  {pkg}")

        print()
        code, modules = modules_after_help(env, home)
        print(f"modules loaded after --help (in process, exit {code}): {len(modules)}")
        if code not in (0, None):
            print(f"  FAIL: --help exited {code}")
            ok = False
        loaded = set(modules)
        for name in FORBIDDEN:
            hits = sorted(m for m in loaded if m == name or m.startswith(name + "."))
            if hits:
                ok = False
                shown = ", ".join(hits[:5]) + (" ..." if len(hits) > 5 else "")
                print(f"  FAIL  {name:<12} imported ({len(hits)} modules: {shown})")
            else:
                print(f"  ok    {name:<12} not imported")

    print()
    print("startup: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
