"""Tools the server tests run: a step that takes a while and marks its start and its end in
$AG_TEST_MARKS, so a test can stop a server mid-step and count what ran again."""

from __future__ import annotations

import os
import time
from typing import Any


def _mark(what: str, ctx: Any) -> None:
    with open(os.environ["AG_TEST_MARKS"], "a", encoding="utf-8") as f:
        f.write(f"{what}\t{ctx.job_id}\t{ctx.step_id}\n")
        f.flush()
        os.fsync(f.fileno())


def slow_mark(label: str, seconds: float, ctx: Any) -> dict[str, Any]:
    """Mark the start, sleep ``seconds``, mark the end; answer the label."""
    _mark("start", ctx)
    time.sleep(seconds)
    _mark("end", ctx)
    return {"label": label}
