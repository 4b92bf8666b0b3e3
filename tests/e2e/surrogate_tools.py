"""Python tools for tests/e2e/test_surrogates.py: text with a lone surrogate, as a model's
JSON reply ``"\\ud800"`` decodes to."""

from __future__ import annotations


def lone(text: str) -> str:
    """``text`` with a lone surrogate in it."""
    return f"{text}\ud800!"


def fail(text: str) -> str:
    """Fail with a message holding a lone surrogate."""
    raise ValueError(f"bad {text}\udfff")


def lock_store(text: str) -> str:
    """Lock the job store (state/agentgo.db) from another process for 6 seconds, longer
    than the store waits for a lock, and return at once: the job's end cannot be written."""
    import subprocess
    import sys

    hold = (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(6)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", hold, "state/agentgo.db"], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "locked\n"
    return text
