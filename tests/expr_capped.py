"""Evaluate expressions in a child process whose address space is capped, so that one that
allocates gigabytes fails there instead of exhausting the machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

CAP_MIB = 512
"""Address space the child may use above what it holds once warmed up."""

SCOPE: dict[str, Any] = {
    "inputs": {"s": "abc", "n": 3, "l": [1, 2, 3], "t": "a\tb\nc d"},
    "steps": {"a": {"output": "x" * 100, "status": "succeeded", "error": None}},
}

_CHILD = r"""
import json, resource, sys, time
from agentgo_cli.expr import ExpressionError, evaluate
scope = json.loads(sys.argv[1])
sources = json.load(sys.stdin)
evaluate("[1] | map('string') | join(',') ~ 'x'", scope)  # warm up: imports, compilation
with open("/proc/self/statm") as f:
    base = int(f.read().split()[0]) * resource.getpagesize()
cap = base + int(sys.argv[2]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
for i, source in enumerate(sources):
    print(json.dumps({"i": i, "started": True}), flush=True)
    start = time.monotonic()
    try:
        value = evaluate(source, scope)
        out = {"kind": "value", "size": len(value) if isinstance(value, (str, list)) else 0}
    except ExpressionError as exc:
        out = {"kind": "error", "reason": exc.reason}
    except BaseException as exc:
        out = {"kind": "crash", "reason": f"{type(exc).__name__}: {str(exc)[:200]}"}
    out["i"] = i
    out["seconds"] = round(time.monotonic() - start, 3)
    print(json.dumps(out), flush=True)
"""


def evaluate_capped(sources: list[str], timeout: float = 120) -> list[dict[str, Any]]:
    """Evaluate each source in one capped child process; one result per source, in order:
    kind ``value``, ``error`` (an ExpressionError, its reason), ``crash`` (anything else) or
    ``died`` (the child ended without answering: killed, out of memory, timed out)."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(SCOPE), str(CAP_MIB)],
            input=json.dumps(sources),
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=timeout,
            check=False,
        )
        stdout, tail = proc.stdout, proc.stderr[-500:]
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        stdout = out.decode() if isinstance(out, bytes) else out
        tail = "timed out"
    results: dict[int, dict[str, Any]] = {}
    for line in stdout.splitlines():
        record = json.loads(line)
        if not record.pop("started", False):
            results[record["i"]] = record
    return [
        results.get(i, {"i": i, "kind": "died", "reason": tail, "seconds": None})
        for i in range(len(sources))
    ]
