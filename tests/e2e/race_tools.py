"""Tools for the lease race tests: side effects recorded with the process that made them."""

from __future__ import annotations

import os
import time
from typing import Any


def record(label: str, ctx: Any) -> dict[str, Any]:
    """Append ``job, step, pid, idempotency key`` to $AGENTGO_TEST_MARKS (one O_APPEND
    write, so lines of concurrent processes never mix), after a short pause that widens
    the window in which two processes could run the same step."""
    time.sleep(0.02)
    line = f"{ctx.job_id}\t{label}\t{os.getpid()}\t{ctx.idempotency_key}\n"
    fd = os.open(os.environ["AGENTGO_TEST_MARKS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return {"label": label}


def hang(label: str, ctx: Any) -> dict[str, Any]:
    """Record the call like ``record``, then never return (its process is killed)."""
    record(label, ctx)
    time.sleep(3600)
    return {"label": label}  # pragma: no cover
