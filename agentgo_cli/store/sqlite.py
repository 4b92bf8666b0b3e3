"""SQLite job store: the embedded default, one database file, written with group commit.

Durability
  The database is in WAL mode. A write that is awaited (``create_job``, ``step_finished``,
  ``job_finished``, ``claim_job``, ``renew_lease``, ``request_cancel``) returns only after
  its transaction committed.

  ``synchronous="normal"`` (the default): a committed write survives any crash of the
  process, ``kill -9`` included, because COMMIT has handed it to the operating system. A
  power loss or kernel crash may lose the last batches committed before it (they were not
  yet fsynced), but never corrupts the database: it reopens at an earlier consistent state.

  ``synchronous="full"``: every commit also waits for the write-ahead log to be fsynced, so
  committed writes survive a power loss too. The cost is one fsync per batch; group commit
  shares it among every write queued meanwhile.

Writes
  One thread owns the write connection (see ``_sqlite_writer``). Each write method queues
  an operation; the thread runs everything queued in one transaction. Queue order is
  execution order, so ``step_started`` (which returns at once, before its commit) is
  always applied before a later ``step_finished`` of the same step, and is committed no
  later than it. ``add_event`` likewise returns at once. Cancelling a coroutine that awaits
  a write does not withdraw the write.

Reads
  ``get_job``, ``list_jobs``, ``steps`` and ``events`` run on two threads with their own
  read-only connections; WAL lets them read while the writer writes. They see committed data
  only, and first wait for any write this store was given without waiting (read your own
  writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self, TypeVar

from agentgo_cli.errors import AgentGoError, ConfigError, StoreError
from agentgo_cli.store._ids import new_job_id
from agentgo_cli.store._sqlite_schema import open_reader, open_writer
from agentgo_cli.store._sqlite_writer import Operation, Writer
from agentgo_cli.store.base import JOB_DONE, JobRecord, StepRecord

__all__ = ["SQLiteJobStore"]

_T = TypeVar("_T")

_NEW, _STARTING, _RUNNING, _CLOSED = "new", "starting", "running", "closed"
_JOB_START = frozenset({"queued", "running"})
_STEP_DONE = frozenset({"succeeded", "failed", "skipped"})
_READ_THREADS = 2

_encode = json.JSONEncoder(ensure_ascii=False).encode
_decode = json.loads

# SQL, written once: sqlite3 keeps each string's prepared statement in its cache.

_JOB_COLUMNS = (
    "id, workflow, status, inputs, manifests, created_at, updated_at, outputs, error, "
    "lease_owner, lease_expires, cancel_requested, cost_usd, tokens"
)
_STEP_COLUMNS = (
    "job_id, key, step_id, kind, status, attempt, started_at, finished_at, output, error, "
    "tokens, cost_usd, extra"
)
_INSERT_JOB = (
    "INSERT INTO jobs (id, workflow, status, inputs, manifests, created_at, updated_at, "
    "lease_owner, lease_expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_JOB = f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?"
_LIST_JOBS = f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?"
_LIST_JOBS_BY_STATUS = (
    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?"
)
_OLDEST_QUEUED = (
    "SELECT created_at, id FROM jobs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1"
)
# Few leases are expired at once, but many may be live: walk the lease index, not the
# creation order of every running job.
_OLDEST_EXPIRED = (
    "SELECT created_at, id FROM jobs INDEXED BY jobs_by_lease "
    "WHERE status = 'running' AND lease_expires < ? ORDER BY created_at, id LIMIT 1"
)
_CLAIM = (
    "UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires = ?, updated_at = ? "
    "WHERE id = ?"
)
_TAKE_OVER = (
    "UPDATE jobs SET status = 'running', lease_owner = ?, lease_expires = ?, updated_at = ? "
    "WHERE id = ? AND status IN ('queued', 'running')"
)
_RENEW = (
    "UPDATE jobs SET lease_expires = ?, updated_at = ? "
    "WHERE id = ? AND lease_owner = ? AND status = 'running'"
)
_CANCEL_QUEUED = (
    "UPDATE jobs SET status = 'cancelled', cancel_requested = 1, updated_at = ? "
    "WHERE id = ? AND status = 'queued'"
)
_CANCEL_RUNNING = (
    "UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status = 'running'"
)
_FINISH_JOB = (
    "UPDATE jobs SET status = ?, outputs = ?, error = ?, updated_at = ?, "
    "lease_owner = NULL, lease_expires = NULL WHERE id = ?"
)
_START_STEP = (
    "INSERT INTO steps (job_id, key, step_id, kind, status, attempt, started_at) "
    "VALUES (?, ?, ?, ?, 'running', ?, ?) "
    "ON CONFLICT (job_id, key) DO UPDATE SET step_id = excluded.step_id, "
    "kind = excluded.kind, status = 'running', attempt = excluded.attempt, "
    "started_at = excluded.started_at, finished_at = NULL, output = NULL, error = NULL, "
    "tokens = 0, cost_usd = 0"
)
_FINISH_STEP = (
    "INSERT INTO steps (job_id, key, step_id, kind, status, attempt, started_at, finished_at, "
    "output, error, tokens, cost_usd) VALUES (?, ?, ?, '', ?, 1, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (job_id, key) DO UPDATE SET status = excluded.status, "
    "finished_at = excluded.finished_at, output = excluded.output, error = excluded.error, "
    "tokens = excluded.tokens, cost_usd = excluded.cost_usd"
)
_ADD_TO_JOB = (
    "UPDATE jobs SET tokens = tokens + ?, cost_usd = cost_usd + ?, updated_at = ? WHERE id = ?"
)
_ADD_EVENT = "INSERT INTO events (job_id, time, kind, message, data) VALUES (?, ?, ?, ?, ?)"
_CANCELLED = (
    "SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?)) AND cancel_requested = 1"
)
_STEPS = f"SELECT {_STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY rowid"
_EVENTS = (
    "SELECT seq, time, kind, message, data FROM events WHERE job_id = ? AND seq > ? ORDER BY seq"
)


def _dump(value: Any, what: str, *names: str) -> str | None:
    """``value`` as JSON text (None stays None); ``what.format(*names)`` names it in errors."""
    if value is None:
        return None
    try:
        return _encode(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store {what.format(*names)} as JSON: {exc}") from exc


def _load(text: str | None) -> Any:
    return None if text is None else _decode(text)


def _job(row: tuple[Any, ...]) -> JobRecord:
    (id_, workflow, status, inputs, manifests, created, updated, outputs, error, owner,
     expires, cancel, cost, tokens) = row  # fmt: skip
    return JobRecord(
        id_,
        workflow,
        status,
        _decode(inputs),
        _decode(manifests),
        created,
        updated,
        _load(outputs),
        error,
        owner,
        expires,
        bool(cancel),
        cost,
        tokens,
    )


def _step(row: tuple[Any, ...]) -> StepRecord:
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
        _load(output),
        error,
        tokens,
        cost,
        {} if extra is None else _decode(extra),
    )


# Operations: each runs on the writer thread, inside the batch's transaction.


def _noop(conn: sqlite3.Connection) -> None:
    """Wait for everything queued before it (a barrier)."""


def _create_job(
    conn: sqlite3.Connection,
    workflow: str,
    status: str,
    inputs: str,
    manifests: str,
    lease_owner: str | None,
    lease_seconds: float,
) -> JobRecord:
    now = time.time()
    expires = None if lease_owner is None else now + lease_seconds
    for _ in range(8):
        job_id = new_job_id()
        try:
            conn.execute(
                _INSERT_JOB,
                (job_id, workflow, status, inputs, manifests, now, now, lease_owner, expires),
            )
        except sqlite3.IntegrityError as exc:
            if "jobs.id" in str(exc):  # another process made the same id: take a new one
                continue
            raise
        return JobRecord(
            job_id,
            workflow,
            status,
            _decode(inputs),
            _decode(manifests),
            now,
            now,
            lease_owner=lease_owner,
            lease_expires=expires,
        )
    raise StoreError("cannot find an unused job id")


def _step_started(
    conn: sqlite3.Connection,
    job_id: str,
    key: str,
    step_id: str,
    kind: str,
    attempt: int,
    now: float,
) -> None:
    conn.execute(_START_STEP, (job_id, key, step_id, kind, attempt, now))


def _step_finished(
    conn: sqlite3.Connection,
    job_id: str,
    key: str,
    status: str,
    now: float,
    output: str | None,
    error: str | None,
    tokens: int,
    cost_usd: float,
) -> None:
    if conn.execute(_ADD_TO_JOB, (tokens, cost_usd, now, job_id)).rowcount != 1:
        raise StoreError(f"cannot record step '{key}': there is no job '{job_id}'")
    # Without a step_started record (a skipped step), the step id is the key's last part.
    step_id = key.rpartition(".")[2]
    conn.execute(
        _FINISH_STEP, (job_id, key, step_id, status, now, now, output, error, tokens, cost_usd)
    )


def _job_finished(
    conn: sqlite3.Connection,
    job_id: str,
    status: str,
    outputs: str | None,
    error: str | None,
    now: float,
) -> None:
    if conn.execute(_FINISH_JOB, (status, outputs, error, now, job_id)).rowcount != 1:
        raise StoreError(f"cannot finish job '{job_id}': there is no such job")


def _add_event(
    conn: sqlite3.Connection, job_id: str, now: float, kind: str, message: str, data: str | None
) -> None:
    conn.execute(_ADD_EVENT, (job_id, now, kind, message, data))


def _claim_job(conn: sqlite3.Connection, owner: str, lease_seconds: float) -> JobRecord | None:
    now = time.time()
    candidates = [
        row
        for row in (
            conn.execute(_OLDEST_QUEUED).fetchone(),
            conn.execute(_OLDEST_EXPIRED, (now,)).fetchone(),
        )
        if row is not None
    ]
    if not candidates:
        return None
    _, job_id = min(candidates)
    conn.execute(_CLAIM, (owner, now + lease_seconds, now, job_id))
    return _job(conn.execute(_SELECT_JOB, (job_id,)).fetchone())


def _take_over(
    conn: sqlite3.Connection, job_id: str, owner: str, lease_seconds: float
) -> JobRecord | None:
    now = time.time()
    if conn.execute(_TAKE_OVER, (owner, now + lease_seconds, now, job_id)).rowcount != 1:
        return None
    return _job(conn.execute(_SELECT_JOB, (job_id,)).fetchone())


def _renew_lease(conn: sqlite3.Connection, job_id: str, owner: str, lease_seconds: float) -> bool:
    now = time.time()
    return conn.execute(_RENEW, (now + lease_seconds, now, job_id, owner)).rowcount == 1


def _request_cancel(conn: sqlite3.Connection, job_id: str) -> bool:
    now = time.time()
    if conn.execute(_CANCEL_QUEUED, (now, job_id)).rowcount == 1:
        return True
    return conn.execute(_CANCEL_RUNNING, (now, job_id)).rowcount == 1


# Reads: each runs on a reader thread with a read-only connection.


def _read_job(conn: sqlite3.Connection, job_id: str) -> JobRecord | None:
    row = conn.execute(_SELECT_JOB, (job_id,)).fetchone()
    return None if row is None else _job(row)


def _read_jobs(conn: sqlite3.Connection, status: str | None, limit: int) -> list[JobRecord]:
    if status is None:
        rows = conn.execute(_LIST_JOBS, (limit,)).fetchall()
    else:
        rows = conn.execute(_LIST_JOBS_BY_STATUS, (status, limit)).fetchall()
    return [_job(row) for row in rows]


def _read_cancelled(conn: sqlite3.Connection, job_ids: str) -> set[str]:
    return {job_id for (job_id,) in conn.execute(_CANCELLED, (job_ids,)).fetchall()}


def _read_steps(conn: sqlite3.Connection, job_id: str) -> list[StepRecord]:
    return [_step(row) for row in conn.execute(_STEPS, (job_id,)).fetchall()]


def _read_events(
    conn: sqlite3.Connection, job_id: str, after: int
) -> list[tuple[int, float, str, str, Any]]:
    return [
        (seq, at, kind, message, _load(data))
        for seq, at, kind, message, data in conn.execute(_EVENTS, (job_id, after)).fetchall()
    ]


class _Readers:
    """A small pool of threads, each read using one of the pool's read-only connections."""

    def __init__(self, path: str, to_store_error: Callable[[BaseException], BaseException]):
        self._path = path
        self._to_store_error = to_store_error
        self._executor = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="agentgo-store-read")
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    async def run(self, read: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, read, args)

    def _call(self, read: Callable[..., _T], args: tuple[Any, ...]) -> _T:
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = open_reader(self._path)
                with self._lock:
                    self._all.append(conn)
            try:
                return read(conn, *args)
            finally:
                self._idle.put(conn)
        except (sqlite3.Error, OSError) as exc:
            raise self._to_store_error(exc) from exc

    async def close(self) -> None:
        """Wait for the reads under way, then close every connection."""
        await asyncio.to_thread(self._executor.shutdown)
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


class SQLiteJobStore:
    """The JobStore on one SQLite file; see the module docstring for its guarantees.

    Use it as ``async with SQLiteJobStore(path).running() as store:``, or call ``start()``
    and ``close()``. It cannot be started again once closed. Every method may be called
    concurrently from coroutines of the loop that started it.
    """

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "normal") -> None:
        level = synchronous.lower()
        if level not in ("normal", "full"):
            raise ConfigError(f"store synchronous must be 'normal' or 'full', not '{synchronous}'")
        self.path = os.path.expanduser(os.fspath(path))
        self.synchronous = level
        self._state = _NEW
        self._writer: Writer | None = None
        self._readers: _Readers | None = None
        self._unflushed = False
        """True when writes were queued without waiting since the last read barrier."""

    def __repr__(self) -> str:
        return f"SQLiteJobStore({self.path!r}, synchronous={self.synchronous!r}) [{self._state}]"

    # Life cycle.

    async def start(self) -> None:
        """Open the database (creating its folder), run pending migrations, start the writer."""
        if self._state != _NEW:
            raise (
                self._not_running()
                if self._state == _CLOSED
                else StoreError("store is already started")
            )
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            raise StoreError("the job store needs a file; an in-memory database is not durable")
        self._state = _STARTING
        writer = Writer(self._open_writer, self._to_store_error)
        try:
            await writer.start()
        except BaseException:
            self._state = _CLOSED
            writer.stop_nowait()  # when the start was cancelled after the writer connected
            raise
        self._writer, self._readers = writer, _Readers(self.path, self._to_store_error)
        if self._state == _CLOSED:  # close() was called while we were starting
            await self._shut_down(self._readers, writer)
            raise self._not_running()
        self._state = _RUNNING

    async def close(self) -> None:
        """Commit everything queued, stop the writer and close the connections. Idempotent."""
        was, self._state = self._state, _CLOSED
        if was == _RUNNING and self._writer is not None and self._readers is not None:
            await self._shut_down(self._readers, self._writer)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Self]:
        """Start the store for the block and close it after."""
        await self.start()
        try:
            yield self
        finally:
            await self.close()

    async def _shut_down(self, readers: _Readers, writer: Writer) -> None:
        try:
            await readers.close()
        finally:
            await writer.stop()
            await writer.join()

    def _open_writer(self) -> sqlite3.Connection:
        try:
            return open_writer(self.path, self.synchronous)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open job store {self.path}: {_describe(exc)}") from exc

    def _to_store_error(self, exc: BaseException) -> BaseException:
        if isinstance(exc, AgentGoError) or not isinstance(exc, sqlite3.Error | OSError):
            return exc
        error = StoreError(f"job store {self.path}: {_describe(exc)}")
        error.__cause__ = exc
        return error

    def _not_running(self) -> StoreError:
        return StoreError("store is closed" if self._state == _CLOSED else "store is not started")

    def _live_writer(self) -> Writer:
        if self._state != _RUNNING or self._writer is None:
            raise self._not_running()
        return self._writer

    def _write(self, operation: Operation, *args: Any) -> asyncio.Future[Any]:
        return self._live_writer().submit(operation, args)

    def _write_nowait(self, operation: Operation, *args: Any) -> None:
        self._live_writer().submit_nowait(operation, args)
        self._unflushed = True

    async def _read(self, read: Callable[..., _T], *args: Any) -> _T:
        self._live_writer()
        if self._unflushed:
            self._unflushed = False
            await self._write(_noop)
        if self._state != _RUNNING or self._readers is None:
            raise self._not_running()
        return await self._readers.run(read, *args)

    # Writes.

    async def create_job(
        self,
        workflow: str,
        inputs: dict[str, Any],
        manifests: list[str],
        *,
        status: str = "queued",
        lease_owner: str | None = None,
        lease_seconds: float = 30.0,
    ) -> JobRecord:
        """Insert a job (committed when this returns); a lease is taken if an owner is given."""
        if status not in _JOB_START:
            raise ValueError(f"a new job is 'queued' or 'running', not '{status}'")
        encoded_inputs = _dump(inputs, "the inputs of a {} job", workflow)
        encoded_manifests = _dump(manifests, "the manifest paths")
        record: JobRecord = await self._write(
            _create_job,
            workflow,
            status,
            encoded_inputs,
            encoded_manifests,
            lease_owner,
            lease_seconds,
        )
        return record

    async def step_started(
        self, job_id: str, key: str, step_id: str, kind: str, attempt: int
    ) -> None:
        """Record that an attempt began; returns at once, committed with the next batch."""
        self._write_nowait(_step_started, job_id, key, step_id, kind, attempt, time.time())

    async def step_finished(
        self,
        job_id: str,
        key: str,
        status: str,
        *,
        output: Any = None,
        error: str | None = None,
        tokens: int = 0,
        cost_usd: float = 0.0,
    ) -> None:
        """Record the result of a step's latest attempt and add its tokens and cost to the
        job; returns once committed."""
        if status not in _STEP_DONE:
            raise ValueError(f"a step ends 'succeeded', 'failed' or 'skipped', not '{status}'")
        encoded = _dump(output, "the output of step '{}' of job '{}'", key, job_id)
        await self._write(
            _step_finished, job_id, key, status, time.time(), encoded, error, tokens, cost_usd
        )

    async def job_finished(
        self,
        job_id: str,
        status: str,
        *,
        outputs: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Record a job's end and release its lease; returns once committed."""
        if status not in JOB_DONE:
            raise ValueError(f"a job ends 'succeeded', 'failed' or 'cancelled', not '{status}'")
        encoded = _dump(outputs, "the outputs of job '{}'", job_id)
        await self._write(_job_finished, job_id, status, encoded, error, time.time())

    async def add_event(self, job_id: str, kind: str, message: str, data: Any = None) -> None:
        """Append a log event; returns at once, committed with the next batch."""
        encoded = _dump(data, "the data of a {} event", kind)
        self._write_nowait(_add_event, job_id, time.time(), kind, message, encoded)

    async def claim_job(self, owner: str, lease_seconds: float) -> JobRecord | None:
        """Take the oldest queued job, or running job whose lease expired, for ``owner``."""
        record: JobRecord | None = await self._write(_claim_job, owner, lease_seconds)
        return record

    async def renew_lease(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend a running job's lease from now; False unless ``owner`` holds it."""
        renewed: bool = await self._write(_renew_lease, job_id, owner, lease_seconds)
        return renewed

    async def take_over(self, job_id: str, owner: str, lease_seconds: float) -> JobRecord | None:
        """Make a job that has not ended ours (running, our lease), whoever held it; None if
        it ended or does not exist."""
        record: JobRecord | None = await self._write(_take_over, job_id, owner, lease_seconds)
        return record

    async def request_cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once, or flag a running one; False if it ended or is unknown."""
        accepted: bool = await self._write(_request_cancel, job_id)
        return accepted

    # Reads.

    async def get_job(self, job_id: str) -> JobRecord | None:
        """One job, or None."""
        return await self._read(_read_job, job_id)

    async def list_jobs(self, *, status: str | None = None, limit: int = 50) -> list[JobRecord]:
        """Up to ``limit`` jobs, newest first, of one status if given."""
        return await self._read(_read_jobs, status, max(limit, 0))

    async def cancelled_ids(self, job_ids: list[str]) -> set[str]:
        """Those of the given jobs that have a cancel request, in one query."""
        if not job_ids:
            self._live_writer()
            return set()
        return await self._read(_read_cancelled, _encode(list(job_ids)))

    async def steps(self, job_id: str) -> list[StepRecord]:
        """The latest attempt of every step of a job, in the order the steps first started."""
        return await self._read(_read_steps, job_id)

    async def events(
        self, job_id: str, *, after: int = 0
    ) -> list[tuple[int, float, str, str, Any]]:
        """(seq, time, kind, message, data) of a job's events with seq > after, in order."""
        return await self._read(_read_events, job_id, after)
