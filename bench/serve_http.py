"""Benchmark: a typed call over HTTP on loopback through `agentgo serve`, and `jobs list`
remote vs local.

Budget (ARCHITECTURE.md, performance budget): call over HTTP on loopback (`agentgo serve`),
p99 at 200 calls/s, <= 5 ms.

The server is the installed `agentgo serve --port 0 --workers 0`, a child process, on a
temporary project with the card of `call_lifecycle.py` (input and output schemas, an ACL
that needs a scope, a rate limit that never refuses, an idempotency key per call) whose
target is a scripted agent with no latency: no network beyond 127.0.0.1. The client is one
`httpx.AsyncClient` (keep-alive) in this script's process, on the same cores as the server.

1. Open loop: `POST /v1/calls` sent on a fixed schedule (RATE per second for SECONDS), not
   one after another, so a slow answer delays none of the next sends and queueing shows up
   in the latency. Latency runs from the scheduled send time to the answer, so the client's
   own lateness counts against the server. The same schedule against `/healthz` first gives
   the floor of HTTP and the client alone. Other sessions share this machine: the budget is
   judged on the calls of the seconds in which other processes kept at most NOISY_CORES
   busy (at least MIN_QUIET_CALLS of them), and is not judged otherwise.
2. Closed loop: N clients (8 and 32), each sending its next call as soon as the last one is
   answered, for a few seconds: the calls per second sustained, with p50 and p99 at that
   load, and the CPU time the server and the client each used.
3. `agentgo jobs list`, remote (a profile with `server:`) against local (the same SQLite
   store, opened by the command itself), on a store of 1,000 finished jobs: the installed
   command as a new process, and the Backend call alone (`RemoteBackend.jobs` against
   `LocalBackend.jobs`, in this process).

Run: .venv/bin/python bench/serve_http.py [--rate 200] [--seconds 10] [--json]
Exit status: 0 when the quiet seconds' p99 is within budget, 1 otherwise: missed, not
judged (too few quiet seconds), or a call failed or answered the wrong output.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import clean_env, find_agentgo, machine_check
from call_lifecycle import MANIFESTS

BUDGET_P99_MS = 5.0
NOISY_CORES = 0.25
"""Other processes' CPU (in cores) in a second of the open loop above which that second is
not quiet: the budget is judged on the quiet seconds' calls."""
MIN_QUIET_CALLS = 400
"""Fewer calls than this in quiet seconds, and the budget cannot be judged."""
INTENT = "research.summarize@^1"
EXPECTED = {"summary": "Three sources agree."}
TOKEN_ENV = "AGENTGO_BENCH_TOKEN"
LISTENING = re.compile(r"agentgo serve: listening on (http://\S+)")

WORKFLOW = """\
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: one-step}
spec:
  steps:
    - id: s1
      agent: summarizer
      prompt: "Summarize the news."
"""


def _config(port: int) -> str:
    """agentgo.yaml of the project: a local profile on the store, a remote one on the
    server, and the server's token (user:alice with the scope the card's ACL asks for)."""
    return f"""\
profile: local
profiles:
  local:
    store: sqlite:///agentgo.db
    manifests: [manifests]
  remote:
    server: http://127.0.0.1:{port}
    token: ${{env:{TOKEN_ENV}}}
    manifests: [manifests]
serve:
  host: 127.0.0.1
  port: 0
  workers: 0
  tokens:
    - token: ${{env:{TOKEN_ENV}}}
      principal: user:alice
      scopes: [research.read]
"""


# -- figures --------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _summary(seconds: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max of latencies given in seconds, in milliseconds."""
    return {
        "p50_ms": _percentile(seconds, 50) * 1000,
        "p90_ms": _percentile(seconds, 90) * 1000,
        "p99_ms": _percentile(seconds, 99) * 1000,
        "max_ms": max(seconds) * 1000,
    }


def _line(label: str, figures: dict[str, float]) -> str:
    return (
        f"  {label:<26} p50 {figures['p50_ms']:6.2f}   p90 {figures['p90_ms']:6.2f}   "
        f"p99 {figures['p99_ms']:6.2f}   max {figures['max_ms']:7.2f} ms"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used so far, summed over the cores
    (Linux /proc/stat: user, nice, system, irq, softirq and steal)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """The CPU the server, this client and every other process used while it ran, in cores
    (1.0: one core busy all the time). Other sessions share this machine: when they used
    much of it, the latencies say more about them than about the server."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.wall = time.perf_counter()
        self.server = _cpu_seconds(server_pid)
        self.client = time.process_time()
        self.machine = _machine_busy_seconds()

    def read(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall
        server = (_cpu_seconds(self.pid) - self.server) / wall
        client = (time.process_time() - self.client) / wall
        machine = (_machine_busy_seconds() - self.machine) / wall
        return {
            "wall_s": wall,
            "server_cores": server,
            "client_cores": client,
            "other_cores": max(0.0, machine - server - client),
        }


# -- the server -----------------------------------------------------------------------------


class Server:
    """`agentgo serve` as a child process; ``url`` once it says where it listens."""

    def __init__(self, agentgo: Path, project: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [str(agentgo), "serve", "--port", "0", "--workers", "0", "--log-level", "warning"],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = ""
        self.output: list[str] = []
        found = threading.Event()

        def read() -> None:  # drains stderr for the server's whole life
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.output.append(line.rstrip())
                match = LISTENING.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60) or not self.url:
            self.stop()
            tail = "\n    ".join(self.output[-10:]) or "(no output)"
            raise SystemExit(f"serve_http: agentgo serve did not start:\n    {tail}")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- load -----------------------------------------------------------------------------------


class Caller:
    """Sends calls and checks each answer; ``failures`` keeps the first few problems."""

    def __init__(self, client: Any) -> None:
        import httpx

        self.client = client
        self.errors = httpx.HTTPError
        self.sent = 0
        self.failures: list[str] = []

    async def call(self) -> None:
        self.sent += 1
        body = {
            "intent": INTENT,
            "input": {"topic": f"topic {self.sent}"},
            "idempotency_key": f"bench-{self.sent}-{secrets.token_hex(4)}",
        }
        try:
            response = await self.client.post("/v1/calls", json=body)
        except self.errors as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        if response.status_code != 200:
            self._fail(f"HTTP {response.status_code}: {response.text[:200]}")
        elif response.json().get("output") != EXPECTED:
            self._fail(f"unexpected output: {response.text[:200]}")

    async def health(self) -> None:
        try:
            response = await self.client.get("/healthz")
        except self.errors as exc:
            self._fail(f"/healthz: {type(exc).__name__}: {exc}")
            return
        if response.status_code != 200:
            self._fail(f"/healthz: HTTP {response.status_code}")

    def _fail(self, problem: str) -> None:
        if len(self.failures) < 5:
            self.failures.append(problem)
        else:
            self.failures[-1] = f"{problem} (and more)"


class OpenLoop:
    """The figures of one open-loop run: each send's latency from its scheduled time and
    its lateness, by the second of the schedule it belongs to, and for each second how
    many cores other processes kept busy (``quiet``: the seconds they left alone)."""

    def __init__(self) -> None:
        self.latencies: list[tuple[int, float]] = []
        self.lateness: list[float] = []
        self.others: list[float] = []

    def all(self) -> list[float]:
        return [latency for _, latency in self.latencies]

    def quiet(self) -> tuple[list[float], int]:
        """The latencies of the quiet seconds, and how many seconds were quiet."""
        calm = {i for i, other in enumerate(self.others) if other <= NOISY_CORES}
        return [latency for second, latency in self.latencies if second in calm], len(calm)


async def open_loop(
    send: Callable[[], Awaitable[None]], rate: float, seconds: float, server_pid: int
) -> OpenLoop:
    """Send on a fixed schedule, measuring from the scheduled time of each send."""
    count = max(1, int(rate * seconds))
    run = OpenLoop()
    loop = asyncio.get_running_loop()
    start = time.perf_counter() + 0.05

    async def one(scheduled: float) -> None:
        run.lateness.append(time.perf_counter() - scheduled)
        await send()
        run.latencies.append((int(scheduled - start), time.perf_counter() - scheduled))

    async def watch() -> None:  # the machine's load, second by second of the schedule
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        for second in range(int(math.ceil(count / rate))):
            meter = CpuMeter(server_pid)
            await asyncio.sleep(max(0.0, start + second + 1 - time.perf_counter()))
            run.others.append(meter.read()["other_cores"])

    watcher = loop.create_task(watch())
    tasks = []
    for i in range(count):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(one(scheduled)))
    await asyncio.gather(*tasks, watcher)
    return run


async def closed_loop(
    send: Callable[[], Awaitable[None]], clients: int, seconds: float
) -> tuple[list[float], float]:
    """``clients`` loops of send-and-wait for ``seconds``: (latencies, wall seconds)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await send()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def measure_calls(
    server: Server, token: str, rate: float, seconds: float, loads: list[int], hold: float
) -> dict[str, Any]:
    import httpx

    # Idle connections are dropped before the server's keep-alive timeout (5 s) would close
    # them under a request.
    limits = httpx.Limits(
        max_connections=max([*loads, 64]), max_keepalive_connections=None, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=httpx.Timeout(30.0),
    ) as client:
        caller = Caller(client)
        # Warm up: the first call loads the manifests and makes the engine; open the
        # connections the closed loops will use.
        for _ in range(300):
            await caller.call()
        await closed_loop(caller.call, max(loads), 1.0)
        figures: dict[str, Any] = {"rate": rate, "seconds": seconds}

        floor = await open_loop(caller.health, rate, min(seconds, 5.0), server.proc.pid)
        figures["healthz"] = _summary(floor.all())

        meter = CpuMeter(server.proc.pid)
        calls = await open_loop(caller.call, rate, seconds, server.proc.pid)
        figures["calls"] = _summary(calls.all())
        figures["calls"]["count"] = len(calls.latencies)
        figures["calls"].update(meter.read())
        figures["send_lateness"] = _summary(calls.lateness)
        quiet, calm = calls.quiet()
        figures["quiet"] = {"seconds": calm, "of": len(calls.others), "count": len(quiet)}
        if len(quiet) >= MIN_QUIET_CALLS:
            figures["quiet"].update(_summary(quiet))

        figures["closed"] = []
        for clients in loads:
            meter = CpuMeter(server.proc.pid)
            done, wall = await closed_loop(caller.call, clients, hold)
            row: dict[str, Any] = {"clients": clients, "calls": len(done)}
            row.update(_summary(done))
            row.update(meter.read())
            row["calls_per_s"] = len(done) / wall
            figures["closed"].append(row)
        figures["failures"] = caller.failures
        figures["calls_sent"] = caller.sent
    return figures


# -- jobs list --------------------------------------------------------------------------------


async def make_jobs(project: Path, jobs: int) -> None:
    """``jobs`` finished jobs of user:alice in the project's store, run here by an engine."""
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.manifests.manifest_set import load_set
    from agentgo_cli.store.sqlite import SQLiteJobStore

    paths = [str(project / "manifests")]
    mset = load_set(paths)
    if not mset.valid:
        raise SystemExit(f"serve_http: invalid manifests: {mset.sorted_errors()[:3]}")
    store = SQLiteJobStore(str(project / "agentgo.db"))
    async with store.running():
        engine = Engine(store, mset, principal="user:alice", trace="off")

        async def one() -> None:
            job = await engine.submit("one-step", {}, paths, run_here=True)
            await engine.run(job)

        for start in range(0, jobs, 200):
            await asyncio.gather(*(one() for _ in range(min(200, jobs - start))))


def time_command(
    argv: list[str], cwd: Path, env: dict[str, str], runs: int, expect: int
) -> list[float]:
    """Seconds per run of a command as a new process (1 untimed warm-up run first)."""
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(
                f"serve_http: {' '.join(argv[1:])} exited {done.returncode}:"
                f" {done.stderr.strip()[-300:]}"
            )
        rows = len(json.loads(done.stdout))
        if rows != expect:
            raise SystemExit(f"serve_http: {' '.join(argv[1:])} listed {rows}, not {expect}")
        if i:
            times.append(elapsed)
    return times


async def time_backends(project: Path, limit: int, runs: int) -> dict[str, list[float]]:
    """Seconds per ``jobs()`` call of each backend, opened once (the first call untimed)."""
    from agentgo_cli.backend.local import LocalBackend
    from agentgo_cli.backend.remote import RemoteBackend
    from agentgo_cli.backend.views import JobsQuery
    from agentgo_cli.config import load_config

    found: dict[str, list[float]] = {}
    query = JobsQuery(limit=limit)
    for name, make in (("local", LocalBackend), ("remote", RemoteBackend)):
        config = load_config(name, project / "agentgo.yaml").check()
        times = []
        async with make(config) as backend:
            for i in range(runs + 1):
                started = time.perf_counter()
                listed = await backend.jobs(query)
                elapsed = time.perf_counter() - started
                if len(listed) != limit:
                    raise SystemExit(f"serve_http: {name} jobs() listed {len(listed)}, not {limit}")
                if i:
                    times.append(elapsed)
        found[name] = times
    return found


def _ms(times: list[float]) -> dict[str, float]:
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": _percentile(times, 95) * 1000,
    }


def measure_jobs_list(
    agentgo: Path, project: Path, env: dict[str, str], jobs: int, runs: int
) -> dict[str, Any]:
    figures: dict[str, Any] = {"jobs": jobs, "command": {}, "backend": {}}
    for limit in (50, jobs):
        for profile in ("local", "remote"):
            argv = [str(agentgo), "-p", profile, "jobs", "list", "-o", "json"]
            if limit != 50:
                argv += ["--limit", str(limit)]
            times = time_command(argv, project, env, runs, limit)
            figures["command"][f"{profile} limit {limit}"] = _ms(times)
    for limit in (50, jobs):
        found = asyncio.run(time_backends(project, limit, runs * 5))
        for profile, times in found.items():
            figures["backend"][f"{profile} limit {limit}"] = _ms(times)
    return figures


# -- the run --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop calls/s (200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="open-loop seconds (10)")
    parser.add_argument(
        "--clients", default="8,32", help="closed-loop client counts, comma-separated (8,32)"
    )
    parser.add_argument("--hold", type=float, default=5.0, help="seconds per closed loop (5)")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the store (1000)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each jobs list command (7)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    try:
        loads = [int(n) for n in args.clients.split(",") if n.strip()]
    except ValueError:
        parser.error("--clients takes numbers separated by commas, e.g. 8,32")
    if args.rate <= 0 or args.seconds <= 0 or args.hold <= 0 or not loads or min(loads) < 1:
        parser.error("--rate, --seconds, --hold and every --clients count must be positive")
    if args.jobs < 50 or args.runs < 1:
        parser.error("--jobs must be at least 50 and --runs at least 1")

    agentgo = find_agentgo("serve_http.py")
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="agentgo-bench-") as tmp:
        home = Path(tmp)
        project = home / "project"
        (project / "manifests").mkdir(parents=True)
        (project / "manifests" / "research.yaml").write_text(MANIFESTS, encoding="utf-8")
        (project / "manifests" / "workflow.yaml").write_text(WORKFLOW, encoding="utf-8")
        (project / "agentgo.yaml").write_text(_config(0), encoding="utf-8")
        env = clean_env(home)
        env[TOKEN_ENV] = token
        os.environ[TOKEN_ENV] = token  # for the backends opened in this process
        print(
            f"serve_http: agentgo serve on 127.0.0.1 (workers 0), POST /v1/calls of "
            f"research.summarize (schemas, ACL, quota, idempotency key), scripted target with "
            f"no latency; client and server share the {os.cpu_count()} CPUs"
        )
        parser_name = "httptools" if importlib.util.find_spec("httptools") else "h11"
        print(f"  uvicorn parses HTTP with {parser_name}; machine check: {machine_check(home)}")
        asyncio.run(make_jobs(project, args.jobs))
        server = Server(agentgo, project, env)
        try:
            # the remote profile needs the port the server got
            (project / "agentgo.yaml").write_text(_config(server.port), encoding="utf-8")
            calls = asyncio.run(
                measure_calls(server, token, args.rate, args.seconds, loads, args.hold)
            )
            listing = measure_jobs_list(agentgo, project, env, args.jobs, args.runs)
        finally:
            server.stop()
        print(f"  machine check: {machine_check(home)}")

    report(calls, listing)
    ok = _verdict(calls) == "MET" and not calls["failures"]
    if args.json:
        print(json.dumps({"calls": calls, "jobs_list": listing, "budget_met": ok}, indent=2))
    return 0 if ok else 1


def _cpu(row: dict[str, Any]) -> str:
    return (
        f"CPU in cores: server {row['server_cores']:.2f}, client {row['client_cores']:.2f}, "
        f"other processes {row['other_cores']:.2f}"
    )


def report(calls: dict[str, Any], listing: dict[str, Any]) -> None:
    rate, seconds = calls["rate"], calls["seconds"]
    print(
        f"open loop, {rate:g} requests/s on a schedule for {seconds:g} s, latency from the "
        "scheduled send:"
    )
    print(_line("GET /healthz (the floor)", calls["healthz"]))
    print(_line(f"POST /v1/calls ({calls['calls']['count']:,})", calls["calls"]))
    print(_line("lateness of the send", calls["send_lateness"]))
    open_loop = calls["calls"]
    per_call = open_loop["wall_s"] / open_loop["count"] * 1000
    print(f"  {_cpu(open_loop)}")
    print(
        f"  CPU per call: server {open_loop['server_cores'] * per_call:.2f} ms, "
        f"client {open_loop['client_cores'] * per_call:.2f} ms"
    )
    quiet = calls["quiet"]
    print(
        f"  quiet seconds (other processes <= {NOISY_CORES:g} cores): {quiet['seconds']} of "
        f"{quiet['of']}, {quiet['count']:,} calls"
    )
    if "p99_ms" in quiet:
        print(_line("POST /v1/calls, quiet s", quiet))
    print("closed loop, N clients each sending the next call once answered:")
    for row in calls["closed"]:
        print(
            f"  {row['clients']:>3} clients  {row['calls_per_s']:7,.0f} calls/s   "
            f"p50 {row['p50_ms']:6.2f}   p99 {row['p99_ms']:6.2f} ms   {_cpu(row)}"
        )
    print(f"agentgo jobs list, {listing['jobs']:,} jobs in the store (median / p95):")
    for label, figure in listing["command"].items():
        print(f"  command  {label:<22} {figure['median_ms']:7.1f} / {figure['p95_ms']:7.1f} ms")
    for label, figure in listing["backend"].items():
        print(f"  jobs()   {label:<22} {figure['median_ms']:7.2f} / {figure['p95_ms']:7.2f} ms")
    if calls["failures"]:
        print(f"FAIL: {len(calls['failures'])}+ calls went wrong:")
        for problem in calls["failures"]:
            print(f"  {problem}")
    verdict = _verdict(calls)
    judged = calls["quiet"].get("p99_ms")
    shown = f"p99 {judged:.2f} ms in the quiet seconds" if judged is not None else "-"
    if verdict == "UNJUDGED":
        shown = (
            f"fewer than {MIN_QUIET_CALLS} calls fell in quiet seconds: the machine was busy; "
            "run it again"
        )
    print(
        f"budget: call over HTTP p99 <= {BUDGET_P99_MS:g} ms at {rate:g} calls/s: {verdict} "
        f"({shown}; p99 of all calls {calls['calls']['p99_ms']:.2f} ms)"
    )


def _verdict(calls: dict[str, Any]) -> str:
    """MET or MISSED, judged on the calls of the quiet seconds; UNJUDGED without enough."""
    judged = calls["quiet"].get("p99_ms")
    if judged is None:
        return "UNJUDGED"
    return "MET" if judged <= BUDGET_P99_MS else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
