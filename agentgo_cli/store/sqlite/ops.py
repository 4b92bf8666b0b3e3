"""The SQLite job store's SQL, and the functions that run it.

Writes run on the writer thread inside the batch's transaction, as ``op(conn, *args)``;
reads run on a reader thread with a read-only connection. Each statement is one string
constant, so sqlite3 prepares it once and keeps it in its statement cache.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from agentgo_cli.errors import LeaseLost, StoreError
from agentgo_cli.store.base import (
    EventRecord,
    JobRecord,
    JobStatus,
    StepRecord,
    StepStatus,
    encode_json,
    poisoned_error,
    to_json,
)
from agentgo_cli.store.sqlite.writer import ManyOperation, Operation

__all__ = [
    "ADD_EVENT",
    "ADD_TO_JOB",
    "CANCELLED",
    "CANCEL_ORPHAN",
    "CANCEL_QUEUED",
    "CANCEL_RUNNING",
    "CLAIM",
    "EVENTS",
    "FINISH_JOB",
    "FINISH_STEP",
    "INSERT_JOB",
    "JOB_COLUMNS",
    "LIST_JOBS",
    "MANY",
    "POISON",
    "OLDEST_EXPIRED",
    "OLDEST_QUEUED",
    "RENEW",
    "SELECT_HOLDER",
    "SELECT_JOB",
    "START_STEP",
    "STEPS",
    "STEP_COLUMNS",
    "TAKE_OVER",
    "TAKE_OVER_SEEN",
    "add_event",
    "add_event_many",
    "claim_job",
    "insert_job",
    "insert_job_many",
    "job_finished_many",
    "decode",
    "dump",
    "encode",
    "job_finished",
    "job_record",
    "load",
    "noop",
    "read_cancelled",
    "read_events",
    "read_job",
    "read_jobs",
    "read_steps",
    "release",
    "renew_lease",
    "cancel_orphan",
    "request_cancel",
    "step_finished",
    "step_finished_many",
    "step_record",
    "step_started",
    "step_started_many",
    "poison",
    "take_over",
]

encode = to_json
decode = json.loads

JOB_COLUMNS = (
    "id, workflow, status, inputs, manifests, created_at, updated_at, outputs, error, "
    "lease_owner, lease_expires, cancel_requested, cost_usd, tokens, principal, scopes, "
    "lease_epoch, owners_lost"
)
STEP_COLUMNS = (
    "job_id, key, step_id, kind, status, attempt, started_at, finished_at, output, error, "
    "tokens, cost_usd, extra"
)
INSERT_JOB = (
    "INSERT INTO jobs (id, workflow, status, inputs, manifests, created_at, updated_at, "
    "lease_owner, lease_expires, lease_epoch, principal, scopes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_JOB = f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"
_LIST_JOBS = f"SELECT {JOB_COLUMNS} FROM jobs{{}} ORDER BY created_at DESC, id DESC LIMIT ?"
LIST_JOBS = {
    (False, False): _LIST_JOBS.format(""),
    (True, False): _LIST_JOBS.format(" WHERE status = ?"),
    (False, True): _LIST_JOBS.format(" WHERE principal = ?"),
    (True, True): _LIST_JOBS.format(" WHERE status = ? AND principal = ?"),
}
"""``jobs list`` by (status given, principal given): one plain query each, so each uses its
index (jobs_by_created, jobs_by_status, jobs_by_principal)."""
# Statuses are spelled from their enums, so the SQL and the Python code cannot disagree.
_QUEUED, _RUNNING, _CANCELLED = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLED
_FAILED, _STEP_RUNNING, _STEP_FAILED = JobStatus.FAILED, StepStatus.RUNNING, StepStatus.FAILED
# The fencing check of a write to a job's records, on the jobs row: parameters (owner,
# owner, epoch); an owner of None (a write without a lease) is not checked.
_FENCE = f"(? IS NULL OR lease_owner = ? AND lease_epoch = ? AND status = '{_RUNNING}')"
OLDEST_QUEUED = (
    f"SELECT created_at, id FROM jobs WHERE status = '{_QUEUED}' ORDER BY created_at, id LIMIT 1"
)
# Few leases are expired at once, but many may be live: walk the lease index, not the
# creation order of every running job.
OLDEST_EXPIRED = (
    "SELECT created_at, id, owners_lost FROM jobs INDEXED BY jobs_by_lease "
    f"WHERE status = '{_RUNNING}' AND lease_expires < ? ORDER BY created_at, id LIMIT 1"
)
# Every take starts a new lease epoch; a take from a holder counts one owner lost.
_TAKE = (
    f"UPDATE jobs SET status = '{_RUNNING}', lease_owner = ?, lease_expires = ?, updated_at = ?, "
    "lease_epoch = lease_epoch + 1, owners_lost = owners_lost + (lease_owner IS NOT NULL) "
)
CLAIM = _TAKE + "WHERE id = ?"
TAKE_OVER = _TAKE + f"WHERE id = ? AND status IN ('{_QUEUED}', '{_RUNNING}')"
# Compare-and-set: still held under the lease the caller saw (owner '' for nobody), or
# its lease expired meanwhile.
TAKE_OVER_SEEN = (
    TAKE_OVER + " AND (coalesce(lease_owner, '') = ? AND lease_epoch = ? OR lease_expires < ?)"
)
SELECT_HOLDER = (
    "SELECT status, lease_owner, lease_epoch, lease_expires, owners_lost FROM jobs WHERE id = ?"
)
POISON = (
    f"UPDATE jobs SET status = '{_FAILED}', error = ?, updated_at = ?, lease_owner = NULL, "
    "lease_expires = NULL, owners_lost = owners_lost + 1 WHERE id = ?"
)
POISON_STEPS = (
    f"UPDATE steps SET status = '{_STEP_FAILED}', error = ?, finished_at = ? "
    f"WHERE job_id = ? AND status = '{_STEP_RUNNING}'"
)
RENEW = (
    "UPDATE jobs SET lease_expires = ?, updated_at = ? "
    f"WHERE id = ? AND lease_owner = ? AND lease_epoch = ? AND status = '{_RUNNING}'"
)
CANCEL_QUEUED = (
    f"UPDATE jobs SET status = '{_CANCELLED}', cancel_requested = 1, updated_at = ?, "
    f"error = 'cancelled on request' WHERE id = ? AND status = '{_QUEUED}'"
)
CANCEL_RUNNING = (
    f"UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status = '{_RUNNING}'"
)
FINISH_JOB = (
    "UPDATE jobs SET status = ?, outputs = ?, error = ?, updated_at = ?, "
    f"lease_owner = NULL, lease_expires = NULL WHERE id = ? AND {_FENCE}"
)
# A write not waited for, refused by the fence, records nothing and reports nothing: the
# job's next awaited write with that lease fails. Parameters (owner, job id, owner, epoch).
_FENCED = (
    "WHERE ? IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE id = ? AND lease_owner = ? "
    f"AND lease_epoch = ? AND status = '{_RUNNING}')"
)
START_STEP = (
    "INSERT INTO steps (job_id, key, step_id, kind, status, attempt, started_at) "
    f"SELECT ?, ?, ?, ?, '{_STEP_RUNNING}', ?, ? {_FENCED} "
    "ON CONFLICT (job_id, key) DO UPDATE SET step_id = excluded.step_id, "
    f"kind = excluded.kind, status = '{_STEP_RUNNING}', attempt = excluded.attempt, "
    "started_at = excluded.started_at, finished_at = NULL, output = NULL, error = NULL, "
    "tokens = 0, cost_usd = 0, extra = NULL"
)
FINISH_STEP = (
    "INSERT INTO steps (job_id, key, step_id, kind, status, attempt, started_at, finished_at, "
    "output, error, tokens, cost_usd, extra) VALUES (?, ?, ?, '', ?, 1, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (job_id, key) DO UPDATE SET status = excluded.status, "
    "finished_at = excluded.finished_at, output = excluded.output, error = excluded.error, "
    "tokens = excluded.tokens, cost_usd = excluded.cost_usd, extra = excluded.extra"
)
ADD_TO_JOB = (
    "UPDATE jobs SET tokens = tokens + ?, cost_usd = cost_usd + ?, updated_at = ? "
    f"WHERE id = ? AND {_FENCE}"
)
ADD_EVENT = f"INSERT INTO events (job_id, time, kind, message, data) SELECT ?, ?, ?, ?, ? {_FENCED}"
CANCELLED = (
    "SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?)) AND cancel_requested = 1"
)
STEPS = f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY rowid"
EVENTS = (
    "SELECT seq, time, kind, message, data FROM events WHERE job_id = ? AND seq > ? ORDER BY seq"
)


def dump(value: Any, what: str, *names: str) -> str | None:
    """``value`` as standard JSON text (None stays None); ValueNotStorable, naming it as
    ``what.format(*names)``, for a value that is not."""
    if value is None:
        return None
    try:
        return encode_json(value)
    except (TypeError, ValueError, RecursionError):
        return to_json(value, what.format(*names))  # raises, with the reason


def load(text: str | None) -> Any:
    """JSON text as a value; NULL stays None."""
    return None if text is None else decode(text)


def job_record(row: tuple[Any, ...]) -> JobRecord:
    """A JobRecord from a row of JOB_COLUMNS."""
    (id_, workflow, status, inputs, manifests, created, updated, outputs, error, owner,
     expires, cancel, cost, tokens, principal, scopes, epoch, lost) = row  # fmt: skip
    return JobRecord(
        id_,
        workflow,
        status,
        decode(inputs),
        decode(manifests),
        created,
        updated,
        load(outputs),
        error,
        owner,
        expires,
        bool(cancel),
        cost,
        tokens,
        principal,
        [] if scopes is None else decode(scopes),
        epoch,
        lost,
    )


def step_record(row: tuple[Any, ...]) -> StepRecord:
    """A StepRecord from a row of STEP_COLUMNS."""
    (job_id, key, step_id, kind, status, attempt, started, finished, output, error, tokens,
     cost, extra) = row  # fmt: skip
    return StepRecord(
        job_id,
        key,
        step_id,
        kind,
        status,
        attempt,
        started,
        finished,
        load(output),
        error,
        tokens,
        cost,
        {} if extra is None else decode(extra),
    )


# Operations: each runs on the writer thread, inside the batch's transaction.


def noop(conn: sqlite3.Connection) -> None:
    """Wait for everything queued before it (a barrier)."""


def insert_job(
    conn: sqlite3.Connection,
    job_id: str,
    workflow: str,
    status: str,
    inputs: str | None,
    manifests: str | None,
    now: float,
    lease_owner: str | None,
    expires: float | None,
    principal: str | None = None,
    scopes: str | None = None,
) -> None:
    """Insert a new job; the caller made its id and keeps the record."""
    conn.execute(
        INSERT_JOB,
        (
            job_id,
            workflow,
            status,
            inputs,
            manifests,
            now,
            now,
            lease_owner,
            expires,
            int(lease_owner is not None),
            principal,
            scopes,
        ),
    )


def insert_job_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """insert_job for each row of its arguments."""
    conn.executemany(
        INSERT_JOB,
        [
            (j, w, st, i, m, now, now, lo, ex, int(lo is not None), p, sc)
            for j, w, st, i, m, now, lo, ex, p, sc in rows
        ],
    )


def step_started(
    conn: sqlite3.Connection,
    job_id: str,
    key: str,
    step_id: str,
    kind: str,
    attempt: int,
    now: float,
    owner: str | None = None,
    epoch: int | None = None,
) -> None:
    conn.execute(
        START_STEP, (job_id, key, step_id, kind, attempt, now, owner, job_id, owner, epoch)
    )


def _refusal(conn: sqlite3.Connection, job_id: str, what: str, missing: str) -> StoreError:
    """Why a fenced write to a job changed nothing: no such job, or its lease was lost."""
    row = conn.execute(SELECT_HOLDER, (job_id,)).fetchone()
    if row is None:
        return StoreError(f"cannot {what}: {missing}")
    status, holder, epoch = row[:3]
    now_held = f"held by {holder} (epoch {epoch})" if holder else status
    return LeaseLost(f"cannot {what}: job {job_id} is no longer ours (it is {now_held})")


def step_finished(
    conn: sqlite3.Connection,
    job_id: str,
    key: str,
    status: str,
    now: float,
    output: str | None,
    error: str | None,
    tokens: int,
    cost_usd: float,
    owner: str | None = None,
    epoch: int | None = None,
    extra: str | None = None,
) -> None:
    fenced = (tokens, cost_usd, now, job_id, owner, owner, epoch)
    if conn.execute(ADD_TO_JOB, fenced).rowcount != 1:
        raise _refusal(conn, job_id, f"record step '{key}'", f"there is no job '{job_id}'")
    # Without a step_started record (a skipped step), the step id is the key's last part.
    step_id = key.rpartition(".")[2]
    conn.execute(
        FINISH_STEP,
        (job_id, key, step_id, status, now, now, output, error, tokens, cost_usd, extra),
    )


def step_started_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """step_started for each row of its arguments."""
    conn.executemany(
        START_STEP,
        [(j, k, s, kd, a, now, o, j, o, e) for j, k, s, kd, a, now, o, e in rows],
    )


def step_finished_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """step_finished for each row of its arguments."""
    totals = [(tk, c, now, j, o, o, e) for j, _, _, now, _, _, tk, c, o, e, _ in rows]
    if conn.executemany(ADD_TO_JOB, totals).rowcount != len(rows):
        # An unknown job, or a lease lost: the one-by-one replay names it.
        raise StoreError("a step of an unknown job, or of a lease lost")
    conn.executemany(
        FINISH_STEP,
        [
            (job_id, key, key.rpartition(".")[2], status, now, now, output, error, tokens, cost, x)
            for job_id, key, status, now, output, error, tokens, cost, _, _, x in rows
        ],
    )


def job_finished(
    conn: sqlite3.Connection,
    job_id: str,
    status: str,
    outputs: str | None,
    error: str | None,
    now: float,
    owner: str | None = None,
    epoch: int | None = None,
) -> None:
    fenced = (status, outputs, error, now, job_id, owner, owner, epoch)
    if conn.execute(FINISH_JOB, fenced).rowcount != 1:
        raise _refusal(conn, job_id, f"finish job '{job_id}'", "there is no such job")


def job_finished_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """job_finished for each row of its arguments."""
    if conn.executemany(
        FINISH_JOB, [(st, out, e, now, j, o, o, ep) for j, st, out, e, now, o, ep in rows]
    ).rowcount != len(rows):
        # An unknown job, or a lease lost: the one-by-one replay names it.
        raise StoreError("a finish of an unknown job, or of a lease lost")


def add_event(
    conn: sqlite3.Connection,
    job_id: str,
    now: float,
    kind: str,
    message: str,
    data: str | None,
    owner: str | None = None,
    epoch: int | None = None,
) -> None:
    conn.execute(ADD_EVENT, (job_id, now, kind, message, data, owner, job_id, owner, epoch))


def add_event_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """add_event for each row of its arguments."""
    conn.executemany(ADD_EVENT, [(j, now, k, m, d, o, j, o, e) for j, now, k, m, d, o, e in rows])


MANY: dict[Operation, ManyOperation] = {
    insert_job: insert_job_many,
    job_finished: job_finished_many,
    step_started: step_started_many,
    step_finished: step_finished_many,
    add_event: add_event_many,
}
"""The operations a batch may apply with executemany, when called several times in a row."""

PHASES: dict[Operation, int] = {
    insert_job: 0,
    step_started: 1,
    step_finished: 2,
    add_event: 3,
    job_finished: 5,
}
"""The order these operations take within one job's life. A batch made only of them may be
regrouped by phase (stable within each), which keeps every job's own order and turns
interleaved calls from many jobs into a few executemany runs. Phase 4 is the trace's
(``trace_ops``): its rows pass the same fence as events, so they come before the job's end."""


def poison(conn: sqlite3.Connection, job_id: str, lost: int, now: float) -> None:
    """Fail a job that lost ``lost`` owners, with a log line; its steps in flight end too."""
    error = poisoned_error(job_id, lost)
    conn.execute(POISON, (error, now, job_id))
    conn.execute(POISON_STEPS, ("interrupted: the job was failed as poisoned", now, job_id))
    conn.execute(
        ADD_EVENT, (job_id, now, "job", f"{_FAILED}: {error}", None, None, job_id, None, None)
    )


def claim_job(
    conn: sqlite3.Connection, owner: str, lease_seconds: float, poison_after: int
) -> JobRecord | None:
    now = time.time()
    while True:
        queued = conn.execute(OLDEST_QUEUED).fetchone()
        expired = conn.execute(OLDEST_EXPIRED, (now,)).fetchone()
        if expired is not None and (queued is None or tuple(expired[:2]) < tuple(queued)):
            _, job_id, lost = expired
            if lost + 1 >= poison_after:  # this claim would make it lose one owner more
                poison(conn, job_id, lost + 1, now)
                continue
        elif queued is not None:
            job_id = queued[1]
        else:
            return None
        conn.execute(CLAIM, (owner, now + lease_seconds, now, job_id))
        return job_record(conn.execute(SELECT_JOB, (job_id,)).fetchone())


def take_over(
    conn: sqlite3.Connection,
    job_id: str,
    owner: str,
    lease_seconds: float,
    expected: tuple[str, int] | None,
    poison_after: int,
) -> JobRecord | None:
    """Take a job (compare-and-set on ``expected``, the holder the caller saw); the job as
    it now is, or None when it had ended or does not exist."""
    now = time.time()
    row = conn.execute(SELECT_HOLDER, (job_id,)).fetchone()
    if row is None or row[0] not in (_QUEUED, _RUNNING):
        return None
    status, holder, epoch, expires, lost = row
    takes = (
        expected is None
        or expected == (holder or "", epoch)
        or (expires is not None and expires < now)
    )
    if takes and status == _RUNNING and holder is not None and lost + 1 >= poison_after:
        # Taking it from its holder would make one owner lost too many: fail it instead.
        poison(conn, job_id, lost + 1, now)
    elif expected is None:
        conn.execute(TAKE_OVER, (owner, now + lease_seconds, now, job_id))
    else:
        cas = (owner, now + lease_seconds, now, job_id, *expected, now)
        conn.execute(TAKE_OVER_SEEN, cas)  # changes nothing when another took it meanwhile
    return job_record(conn.execute(SELECT_JOB, (job_id,)).fetchone())


def renew_lease(
    conn: sqlite3.Connection, job_id: str, owner: str, epoch: int, lease_seconds: float
) -> bool:
    now = time.time()
    return conn.execute(RENEW, (now + lease_seconds, now, job_id, owner, epoch)).rowcount == 1


# A holder gives a running job up: queued again with nobody's lease, so the next claim or
# resume takes it at once, and counts no owner lost.
RELEASE = (
    f"UPDATE jobs SET status = '{_QUEUED}', lease_owner = NULL, lease_expires = NULL, "
    f"updated_at = ? WHERE id = ? AND lease_owner = ? AND lease_epoch = ? AND status = '{_RUNNING}'"
)


def release(conn: sqlite3.Connection, job_id: str, owner: str, epoch: int, message: str) -> bool:
    now = time.time()
    if conn.execute(RELEASE, (now, job_id, owner, epoch)).rowcount != 1:
        return False
    conn.execute(ADD_EVENT, (job_id, now, "job", message, None, None, job_id, None, None))
    return True


ORPHAN_CANCELLED = "cancelled on request (no live process was running it)"
CANCEL_ORPHAN = (
    f"UPDATE jobs SET status = '{_CANCELLED}', cancel_requested = 1, updated_at = ?, "
    f"error = '{ORPHAN_CANCELLED}', lease_owner = NULL, lease_expires = NULL "
    f"WHERE id = ? AND status = '{_RUNNING}' "
    "AND (lease_expires IS NULL OR lease_expires < ? OR lease_owner IS ?)"
)
INTERRUPT_STEPS = (
    f"UPDATE steps SET status = '{StepStatus.FAILED}', finished_at = ?, "
    f"error = 'interrupted: the job was cancelled' WHERE job_id = ? AND status = '{_STEP_RUNNING}'"
)


def cancel_orphan(conn: sqlite3.Connection, job_id: str, owner: str | None) -> bool:
    now = time.time()
    if conn.execute(CANCEL_ORPHAN, (now, job_id, now, owner)).rowcount != 1:
        return False
    conn.execute(INTERRUPT_STEPS, (now, job_id))
    return True


def request_cancel(conn: sqlite3.Connection, job_id: str) -> bool:
    now = time.time()
    if conn.execute(CANCEL_QUEUED, (now, job_id)).rowcount == 1:
        return True
    return conn.execute(CANCEL_RUNNING, (now, job_id)).rowcount == 1


# Reads: each runs on a reader thread with a read-only connection.


def read_job(conn: sqlite3.Connection, job_id: str) -> JobRecord | None:
    row = conn.execute(SELECT_JOB, (job_id,)).fetchone()
    return None if row is None else job_record(row)


def read_jobs(
    conn: sqlite3.Connection, status: str | None, principal: str | None, limit: int
) -> list[JobRecord]:
    given = tuple(x for x in (status, principal) if x is not None)
    sql = LIST_JOBS[status is not None, principal is not None]
    rows = conn.execute(sql, (*given, limit)).fetchall()
    return [job_record(row) for row in rows]


def read_cancelled(conn: sqlite3.Connection, job_ids: str) -> set[str]:
    return {job_id for (job_id,) in conn.execute(CANCELLED, (job_ids,)).fetchall()}


def read_steps(conn: sqlite3.Connection, job_id: str) -> list[StepRecord]:
    return [step_record(row) for row in conn.execute(STEPS, (job_id,)).fetchall()]


def read_events(conn: sqlite3.Connection, job_id: str, after: int) -> list[EventRecord]:
    return [
        EventRecord(seq, at, kind, message, load(data))
        for seq, at, kind, message, data in conn.execute(EVENTS, (job_id, after)).fetchall()
    ]
