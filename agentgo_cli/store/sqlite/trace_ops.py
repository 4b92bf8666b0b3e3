"""SQLite operations on a job's trace (``jobs trace``): one row per recorded node, numbered
by a per-job sequence. Like ``ops``, writes run on the writer inside its batch's
transaction (fenced by the job's lease, as events are), reads on a reader thread."""

from __future__ import annotations

import sqlite3
from typing import Any

from agentgo_cli.store.base import TraceEntry, TraceRecord
from agentgo_cli.store.sqlite.ops import _FENCED, PHASES, add_event, load
from agentgo_cli.store.sqlite.writer import ManyOperation, Operation

__all__ = ["ADD_TRACE", "MANY", "PHASES_OF_TRACE", "TRACE", "add_trace", "read_trace"]

# The sequence is the job's next number, read in the same transaction as the insert (the
# writer is the only one): executemany sees each row the one before it inserted.
ADD_TRACE = (
    "INSERT INTO trace (job_id, seq, time, kind, key, attempt, span, parent, name, status, "
    "seconds, tokens, cost_usd, data) "
    "SELECT ?, (SELECT coalesce(max(seq), 0) + 1 FROM trace WHERE job_id = ?), "
    f"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? {_FENCED}"
)
TRACE = (
    "SELECT seq, time, kind, key, attempt, span, parent, name, status, seconds, tokens, "
    "cost_usd, data FROM trace WHERE job_id = ? ORDER BY seq"
)


def _row(job_id: str, entry: TraceEntry, owner: str | None, epoch: int | None) -> tuple[Any, ...]:
    return (job_id, job_id, *entry, owner, job_id, owner, epoch)


def add_trace(
    conn: sqlite3.Connection,
    job_id: str,
    entry: TraceEntry,
    owner: str | None = None,
    epoch: int | None = None,
) -> None:
    conn.execute(ADD_TRACE, _row(job_id, entry, owner, epoch))


def add_trace_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """add_trace for each row of its arguments."""
    conn.executemany(ADD_TRACE, [_row(*row) for row in rows])


def read_trace(conn: sqlite3.Connection, job_id: str) -> list[TraceRecord]:
    return [
        TraceRecord(seq, at, kind, key, attempt, span, parent, name, status, s, tok, usd, load(d))
        for seq, at, kind, key, attempt, span, parent, name, status, s, tok, usd, d in conn.execute(
            TRACE, (job_id,)
        ).fetchall()
    ]


MANY: dict[Operation, ManyOperation] = {add_trace: add_trace_many}
"""The trace's batchable operation (merged with ``ops.MANY`` by the store)."""

PHASES_OF_TRACE: dict[Operation, int] = {add_trace: PHASES[add_event]}
"""Trace rows take the phase of log events: after the job's step records, before its end
(whose write would close the fence they pass)."""
