"""SQLite operations on a job's trace (``jobs trace``): one row per recorded node, numbered
by a per-job sequence. Like ``ops``, writes run on the writer inside its batch's
transaction (fenced by the job's lease, as events are), reads on a reader thread."""

from __future__ import annotations

import sqlite3
from typing import Any

from agentgo_cli.store.base import JobStatus, TraceEntry, TraceRecord, encode_json
from agentgo_cli.store.sqlite.ops import _FENCED, PHASES, add_event, load
from agentgo_cli.store.sqlite.writer import ManyOperation, Operation

__all__ = [
    "ADD_TRACE",
    "ADD_ONE",
    "HOLDERS",
    "LAST_SEQS",
    "MANY",
    "PHASES_OF_TRACE",
    "TRACE",
    "add_trace",
    "add_trace_many",
    "read_trace",
]

ADD_TRACE = (
    "INSERT INTO trace (job_id, seq, time, kind, key, attempt, span, parent, name, status, "
    "seconds, tokens, cost_usd, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
ADD_ONE = (
    "INSERT INTO trace (job_id, seq, time, kind, key, attempt, span, parent, name, status, "
    "seconds, tokens, cost_usd, data) "
    "SELECT ?, (SELECT coalesce(max(seq), 0) + 1 FROM trace WHERE job_id = ?), "
    f"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? {_FENCED}"
)
LAST_SEQS = (
    "SELECT job_id, max(seq) FROM trace WHERE job_id IN (SELECT value FROM json_each(?)) "
    "GROUP BY job_id"
)
HOLDERS = (
    "SELECT id, lease_owner, lease_epoch FROM jobs "
    f"WHERE id IN (SELECT value FROM json_each(?)) AND status = '{JobStatus.RUNNING}'"
)
TRACE = (
    "SELECT seq, time, kind, key, attempt, span, parent, name, status, seconds, tokens, "
    "cost_usd, data FROM trace WHERE job_id = ? ORDER BY seq"
)


def add_trace(
    conn: sqlite3.Connection,
    job_id: str,
    entry: TraceEntry,
    owner: str | None = None,
    epoch: int | None = None,
) -> None:
    conn.execute(ADD_ONE, (job_id, job_id, *entry, owner, job_id, owner, epoch))


def add_trace_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """add_trace for each row of its arguments, with two queries for all their jobs (who
    holds each, and its last sequence number) rather than two per row."""
    jobs = encode_json(sorted({row[0] for row in rows}))
    holders = {j: (o, e) for j, o, e in conn.execute(HOLDERS, (jobs,))}
    last: dict[str, int] = dict(conn.execute(LAST_SEQS, (jobs,)).fetchall())
    out: list[tuple[Any, ...]] = []
    for job_id, entry, owner, epoch in rows:
        if owner is not None and holders.get(job_id) != (owner, epoch):
            continue  # a lease lost: nothing is recorded, as for events
        last[job_id] = seq = last.get(job_id, 0) + 1
        out.append((job_id, seq, *entry))
    if out:
        conn.executemany(ADD_TRACE, out)


def read_trace(conn: sqlite3.Connection, job_id: str) -> list[TraceRecord]:
    return [
        TraceRecord(seq, at, kind, key, attempt, span, parent, name, status, s, tok, usd, load(d))
        for seq, at, kind, key, attempt, span, parent, name, status, s, tok, usd, d in conn.execute(
            TRACE, (job_id,)
        ).fetchall()
    ]


MANY: dict[Operation, ManyOperation] = {add_trace: add_trace_many}
"""The trace's batchable operation (merged with ``ops.MANY`` by the store)."""

PHASES_OF_TRACE: dict[Operation, int] = {add_trace: PHASES[add_event] + 1}
"""Trace rows come after the job's step records and log events, before its end (whose write
would close the fence they pass). A phase of their own, not the events': interleaved with
events, each row would be a run of one, written alone instead of in one executemany."""
