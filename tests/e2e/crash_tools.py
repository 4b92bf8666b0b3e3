"""Tools for the crash tests: side effects that can be counted after a crash."""

from __future__ import annotations

import os
from typing import Any


def mark(label: str, ctx: Any) -> dict[str, Any]:
    """Append one line per execution to $AGENTGO_TEST_MARKS; return the label."""
    path = os.environ["AGENTGO_TEST_MARKS"]
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{ctx.idempotency_key}\t{label}\n")
        f.flush()
        os.fsync(f.fileno())
    return {"label": label, "words": len(label.split())}
