"""Benchmark: the overhead of the typed call lifecycle, in process, p50 and p99.

Budget (ARCHITECTURE.md, performance budget): `call_agent` lifecycle overhead in process
(no model time), p99 <= 2 ms.

The workload: CALLS calls, one after another, of the intent `research.summarize`, whose
card has every stage switched on: an input schema, an ACL (allow `user:*` with a scope,
deny `user:mallory`), a rate limit (high enough never to refuse, so every call takes a
token from the store), an idempotency key per call (so every call writes and finishes an
idempotency record, committed), a trace context and an output schema. The target is a
scripted agent with no latency that answers a JSON object. Each call goes through
`CallService.call`, exactly the path of `agentgo call`, workflow `call:` steps and the
`call_agent` tool, on a durable SQLiteJobStore (synchronous=normal).

It prints two latencies per call: the whole call, and the lifecycle overhead, which is the
whole call minus the time spent inside dispatch (running the scripted agent). The budget
applies to the overhead; both figures are printed.

Run: .venv/bin/python bench/call_lifecycle.py [--calls 100000] [--warmup 2000]
Exit status: 0 when the overhead's p99 is within budget, 1 otherwise.
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

BUDGET_P99_MS = 2.0

MANIFESTS = """\
apiVersion: agentgo/v1
kind: Agent
metadata: {name: summarizer}
spec:
  model: scripted:bench
  script:
    - reply: {summary: "Three sources agree."}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: research-card}
spec:
  target: agent:summarizer
  intents:
    - name: research.summarize
      version: 1.2.0
      input:
        type: object
        required: [topic]
        properties: {topic: {type: string, maxLength: 500}}
      output:
        type: object
        required: [summary]
        properties: {summary: {type: string}}
      prompt: "Summarize ${{ input.topic }} in five sentences."
      classification: internal
      acl:
        allow:
          - principal: "user:*"
            scopes: [research.read]
        deny:
          - principal: "user:mallory"
      rate_limit: {requests: 100000000, per: 1s, burst: 100000000}
      idempotency_ttl: 1h
"""


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _measure(folder: Path, calls: int, warmup: int) -> dict[str, Any]:
    from agentgo_cli.a2a.lifecycle import CallContext, Spend
    from agentgo_cli.a2a.trace import TraceContext
    from agentgo_cli.engine.scheduler import Engine
    from agentgo_cli.manifests.manifest_set import load_set
    from agentgo_cli.store.sqlite import SQLiteJobStore

    (folder / "m").mkdir()
    (folder / "m" / "research.yaml").write_text(MANIFESTS, encoding="utf-8")
    mset = load_set([folder / "m"])
    if not mset.valid:
        raise SystemExit(f"call_lifecycle: invalid manifests: {mset.sorted_errors()[:3]}")
    store = SQLiteJobStore(str(folder / "bench.db"))
    async with store.running():
        engine = Engine(store, mset, principal="user:alice", scopes=frozenset({"research.read"}))
        inner: list[float] = []
        dispatch = engine.agent_calls.dispatch

        async def timed_dispatch(entry: Any, value: Any, ctx: Any) -> Any:
            started = time.perf_counter()
            try:
                return await dispatch(entry, value, ctx)
            finally:
                inner.append(time.perf_counter() - started)

        engine.agent_calls.dispatch = timed_dispatch  # type: ignore[method-assign]
        trace = TraceContext.start()
        total: list[float] = []
        for i in range(warmup + calls):
            root = CallContext("user:alice", engine.scopes, ("user:alice",), trace, Spend())
            started = time.perf_counter()
            outcome = await engine.calls.call(
                "research.summarize@^1",
                {"topic": f"topic {i}"},
                parent=root,
                idempotency_key=f"bench-{i}",
            )
            total.append(time.perf_counter() - started)
            if outcome.output != {"summary": "Three sources agree."}:
                raise SystemExit(f"call_lifecycle: unexpected output {outcome.output!r}")
        total, inner = total[warmup:], inner[warmup:]
    overhead = [t - d for t, d in zip(total, inner, strict=True)]
    return {
        "calls": calls,
        "total_p50_ms": _percentile(total, 50) * 1000,
        "total_p99_ms": _percentile(total, 99) * 1000,
        "overhead_p50_ms": _percentile(overhead, 50) * 1000,
        "overhead_p99_ms": _percentile(overhead, 99) * 1000,
        "overhead_mean_ms": statistics.fmean(overhead) * 1000,
        "dispatch_p50_ms": _percentile(inner, 50) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="measured calls (100000)")
    parser.add_argument("--warmup", type=int, default=2_000, help="calls before measuring")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.warmup < 0:
        parser.error("--calls must be at least 1 and --warmup at least 0")
    print(
        f"call_lifecycle: {args.calls:,} calls of research.summarize, one after another, every "
        f"stage on (schemas, ACL, quota, idempotency, trace), scripted target with no latency, "
        f"SQLite synchronous=normal, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="agentgo-bench-") as tmp:
        figures = asyncio.run(_measure(Path(tmp), args.calls, args.warmup))
    print(
        f"  whole call          p50 {figures['total_p50_ms']:.3f} ms   "
        f"p99 {figures['total_p99_ms']:.3f} ms"
    )
    print(
        f"  lifecycle overhead  p50 {figures['overhead_p50_ms']:.3f} ms   "
        f"p99 {figures['overhead_p99_ms']:.3f} ms   (mean {figures['overhead_mean_ms']:.3f} ms)"
    )
    print(f"  dispatch (the scripted agent) p50 {figures['dispatch_p50_ms']:.3f} ms")
    ok = figures["overhead_p99_ms"] <= BUDGET_P99_MS
    print(
        f"{'PASS' if ok else 'FAIL'}: lifecycle overhead p99 {figures['overhead_p99_ms']:.3f} ms "
        f"(budget <= {BUDGET_P99_MS:g} ms)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
