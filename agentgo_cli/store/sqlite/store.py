"""SQLite job store: the embedded default, one database file, written with group commit.

Durability
  The database is in WAL mode. A write that is awaited (``create_job``, ``step_finished``,
  ``job_finished``, ``claim_job``, ``take_over``, ``renew_lease``, ``request_cancel``,
  ``take_token``, ``idem_begin``, ``idem_finish``, the ``todo_*`` and ``board_put``)
  returns only after its transaction committed.

  ``synchronous="normal"`` (the default): a committed write survives any crash of the
  process, ``kill -9`` included, because COMMIT has handed it to the operating system. A
  power loss or kernel crash may lose the last batches committed before it (they were not
  yet fsynced), but never corrupts the database: it reopens at an earlier consistent state.

  ``synchronous="full"``: every commit also waits for the write-ahead log to be fsynced, so
  committed writes survive a power loss too. The cost is one fsync per batch; group commit
  shares it among every write queued meanwhile.

Writes
  One thread owns the write connection (see ``writer``). Each write method queues
  an operation; the thread runs everything queued in one transaction. Queue order is
  execution order, so ``step_started`` (which returns at once, before its commit) is
  always applied before a later ``step_finished`` of the same step, and is committed no
  later than it. ``add_event`` likewise returns at once. Cancelling a coroutine that awaits
  a write does not withdraw the write.

Reads
  ``get_job``, ``list_jobs``, ``steps``, ``events``, ``cancelled_ids``, ``idem_get``,
  ``todos``, ``board_get`` and ``board_list`` run on two threads with their own read-only
  connections; WAL lets them read while the writer writes. They see committed data only,
  and first wait for any write this store was given without waiting (read your own writes).
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

from agentgo_cli.errors import AgentGoError, ConfigError, StoreError, ValueNotStorable
from agentgo_cli.store._ids import new_job_id
from agentgo_cli.store.base import (
    IDEM_LEASE_S,
    JOB_DONE,
    POISON_AFTER,
    STEP_DONE,
    EventRecord,
    IdemRecord,
    JobRecord,
    JobStatus,
    Lease,
    StepRecord,
    TraceEntry,
    TraceRecord,
    storable_text,
)
from agentgo_cli.store.sqlite import call_ops, ops, trace_ops
from agentgo_cli.store.sqlite.schema import open_reader, open_writer
from agentgo_cli.store.sqlite.team_state import TeamState
from agentgo_cli.store.sqlite.writer import InlineWriter, Operation, Writer

__all__ = ["SQLiteJobStore"]

_T = TypeVar("_T")

_NEW, _STARTING, _RUNNING, _CLOSED = "new", "starting", "running", "closed"
_JOB_START = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
_CALL_DONE = frozenset({"succeeded", "failed"})
_READ_THREADS = 2
_URL_PREFIX = "sqlite:///"
_URL_FORM = "sqlite:///path"


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


def _poison_limit(poison_after: int) -> int:
    if poison_after < 1:
        raise ValueError(f"poison_after must be at least 1, not {poison_after}")
    return poison_after


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


class SQLiteJobStore(TeamState):
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
        kind = InlineWriter if self.synchronous == "normal" else Writer
        writer = kind(
            self._open_writer,
            self._to_store_error,
            many={**ops.MANY, **trace_ops.MANY},
            phases={**ops.PHASES, **trace_ops.PHASES_OF_TRACE},
        )
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
        if isinstance(exc, UnicodeEncodeError):  # text no store helper made storable
            error: StoreError = ValueNotStorable(
                f"job store {self.path}: cannot store text that is not valid Unicode ({exc.reason})"
            )
            error.__cause__ = exc
            return error
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
            await self._write(ops.noop)
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
        status: str = JobStatus.QUEUED,
        lease_owner: str | None = None,
        lease_seconds: float = 30.0,
        principal: str | None = None,
        scopes: list[str] | None = None,
    ) -> JobRecord:
        """Insert a job (committed when this returns); a lease is taken if an owner is given.
        ``principal`` and ``scopes`` say whom the job runs for (its calls run as them)."""
        if status not in _JOB_START:
            raise ValueError(f"a new job is 'queued' or 'running', not '{status}'")
        encoded_inputs = ops.dump(inputs, "the inputs of a {} job", workflow)
        encoded_manifests = ops.dump(manifests, "the manifest paths")
        encoded_scopes = ops.dump(sorted(scopes), "the scopes") if scopes else None
        for _ in range(8):
            job_id, now = new_job_id(), time.time()
            expires = None if lease_owner is None else now + lease_seconds
            try:
                await self._write(
                    ops.insert_job,
                    job_id,
                    workflow,
                    status,
                    encoded_inputs,
                    encoded_manifests,
                    now,
                    lease_owner,
                    expires,
                    principal,
                    encoded_scopes,
                )
            except StoreError as exc:
                if "jobs.id" in str(exc.__cause__ or ""):
                    continue  # another process made the same id: take a new one
                raise
            copied = json.loads(encoded_inputs) if encoded_inputs is not None else {}
            return JobRecord(
                job_id,
                workflow,
                status,
                copied,  # a private copy, as a read would give
                list(manifests),
                now,
                now,
                lease_owner=lease_owner,
                lease_expires=expires,
                principal=principal,
                scopes=sorted(scopes) if scopes else [],
                lease_epoch=int(lease_owner is not None),
            )
        raise StoreError("cannot find an unused job id")

    async def step_started(
        self,
        job_id: str,
        key: str,
        step_id: str,
        kind: str,
        attempt: int,
        *,
        lease: Lease | None = None,
    ) -> None:
        """Record that an attempt began; returns at once, committed with the next batch
        (nothing is recorded if ``lease`` no longer holds the job)."""
        owner, epoch = (None, None) if lease is None else (lease.owner, lease.epoch)
        now = time.time()
        self._write_nowait(ops.step_started, job_id, key, step_id, kind, attempt, now, owner, epoch)

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
        wait: bool = True,
        lease: Lease | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Record the result of a step's latest attempt (and its ``extra`` details) and add
        its tokens and cost to the job; returns once committed (``wait=False``: at once,
        committed with the next batch, no later than the next awaited write). LeaseLost if
        ``lease`` no longer holds it."""
        if status not in STEP_DONE:
            raise ValueError(f"a step ends 'succeeded', 'failed' or 'skipped', not '{status}'")
        encoded = ops.dump(output, "the output of step '{}' of job '{}'", key, job_id)
        details = ops.dump(extra or None, "the details of step '{}' of job '{}'", key, job_id)
        owner, epoch = (None, None) if lease is None else (lease.owner, lease.epoch)
        now = time.time()
        error = storable_text(error)
        args = (job_id, key, status, now, encoded, error, tokens, cost_usd, owner, epoch, details)
        if wait:
            await self._write(ops.step_finished, *args)
        else:
            self._write_nowait(ops.step_finished, *args)

    async def job_finished(
        self,
        job_id: str,
        status: str,
        *,
        outputs: dict[str, Any] | None = None,
        error: str | None = None,
        lease: Lease | None = None,
    ) -> None:
        """Record a job's end and release its lease; returns once committed. LeaseLost
        (nothing recorded) if ``lease`` no longer holds the job."""
        if status not in JOB_DONE:
            raise ValueError(f"a job ends 'succeeded', 'failed' or 'cancelled', not '{status}'")
        encoded = ops.dump(outputs, "the outputs of job '{}'", job_id)
        owner, epoch = (None, None) if lease is None else (lease.owner, lease.epoch)
        now = time.time()
        error = storable_text(error)
        await self._write(ops.job_finished, job_id, status, encoded, error, now, owner, epoch)

    async def add_event(
        self, job_id: str, kind: str, message: str, data: Any = None, *, lease: Lease | None = None
    ) -> None:
        """Append a log event; returns at once, committed with the next batch. Data that
        cannot be stored as JSON is replaced by a note saying why (the line is kept)."""
        try:
            encoded = ops.dump(data, "the data of a {} event", kind)
        except ValueNotStorable as exc:
            encoded = ops.dump({"unstorable": str(exc)}, "a note")
        owner, epoch = (None, None) if lease is None else (lease.owner, lease.epoch)
        now = time.time()
        message = storable_text(message)
        self._write_nowait(ops.add_event, job_id, now, kind, message, encoded, owner, epoch)

    def add_trace(self, job_id: str, entry: TraceEntry, *, lease: Lease | None = None) -> None:
        """Append a node to a job's trace; queued at once (not a coroutine), committed with
        the next batch (nothing is recorded if ``lease`` no longer holds the job)."""
        owner, epoch = (None, None) if lease is None else (lease.owner, lease.epoch)
        key, name = entry.key, entry.name
        if not ((key is None or key.isascii()) and (name is None or name.isascii())):
            entry = entry._replace(key=storable_text(key), name=storable_text(name))
        self._write_nowait(trace_ops.add_trace, job_id, entry, owner, epoch)

    async def claim_job(
        self, owner: str, lease_seconds: float, *, poison_after: int = POISON_AFTER
    ) -> JobRecord | None:
        """Take the oldest queued job, or running job whose lease expired, for ``owner``
        (failing as poisoned, on the way, expired jobs that lost ``poison_after`` owners)."""
        record: JobRecord | None = await self._write(
            ops.claim_job, owner, lease_seconds, _poison_limit(poison_after)
        )
        return record

    async def renew_lease(self, job_id: str, lease: Lease, lease_seconds: float) -> bool:
        """Extend a running job's lease from now; False unless ``lease`` still holds it."""
        renewed: bool = await self._write(
            ops.renew_lease, job_id, lease.owner, lease.epoch, lease_seconds
        )
        return renewed

    async def release(self, job_id: str, lease: Lease, message: str) -> bool:
        """Give up a running job we hold: queued again at once, ``message`` logged (see
        JobStore.release)."""
        text = storable_text(message)
        released: bool = await self._write(ops.release, job_id, lease.owner, lease.epoch, text)
        return released

    async def take_over(
        self,
        job_id: str,
        owner: str,
        lease_seconds: float,
        *,
        expected: Lease | None = None,
        poison_after: int = POISON_AFTER,
    ) -> JobRecord | None:
        """Make a job that has not ended ours (running, our lease, a new epoch) if it is still
        held under ``expected`` (or whoever holds it, without); see JobStore.take_over."""
        seen = None if expected is None else (expected.owner, expected.epoch)
        record: JobRecord | None = await self._write(
            ops.take_over, job_id, owner, lease_seconds, seen, _poison_limit(poison_after)
        )
        return record

    async def request_cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once, or flag a running one; False if it ended or is unknown."""
        accepted: bool = await self._write(ops.request_cancel, job_id)
        return accepted

    async def cancel_orphan(self, job_id: str, owner: str | None) -> bool:
        """Cancel a running job no live process owns at once (see JobStore)."""
        cancelled: bool = await self._write(ops.cancel_orphan, job_id, owner)
        return cancelled

    # Call records.

    async def take_token(
        self, bucket: str, rate_per_s: float, capacity: float, now: float
    ) -> float:
        """Refill the bucket to ``now`` and take a token: 0.0, or the seconds to wait for one.

        One write transaction (BEGIN IMMEDIATE), so processes sharing the file take turns.
        """
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError(
                f"a token bucket needs a positive rate and room for a token, "
                f"not {rate_per_s}/s and {capacity}"
            )
        wait: float = await self._write(call_ops.take_token, bucket, rate_per_s, capacity, now)
        return wait

    async def idem_begin(
        self,
        scope: str,
        key: str,
        input_hash: str,
        owner: str,
        ttl_s: float,
        now: float,
        *,
        lease_s: float = IDEM_LEASE_S,
    ) -> IdemRecord:
        """The live record of a key, or a new pending one for ``owner`` (committed)."""
        if ttl_s <= 0 or lease_s <= 0:
            raise ValueError(
                f"an idempotency TTL and lease must be positive, not {ttl_s}, {lease_s}"
            )
        record: IdemRecord = await self._write(
            call_ops.idem_begin, scope, key, input_hash, owner, ttl_s, now, lease_s
        )
        return record

    async def idem_finish(
        self, scope: str, key: str, owner: str, status: str, result: Any = None
    ) -> None:
        """Store ``owner``'s result (succeeded) or delete its record (failed); committed."""
        if status not in _CALL_DONE:
            raise ValueError(f"a call ends 'succeeded' or 'failed', not '{status}'")
        encoded = ops.dump(result, "the result of call '{}' (key '{}')", scope, key)
        await self._write(call_ops.idem_finish, scope, key, owner, encoded, status == "succeeded")

    async def idem_renew(self, scope: str, key: str, owner: str, lease_expires: float) -> bool:
        """Extend ``owner``'s pending record's lease; False when it is no longer theirs."""
        renewed: bool = await self._write(call_ops.idem_renew, scope, key, owner, lease_expires)
        return renewed

    async def idem_get(self, scope: str, key: str) -> IdemRecord | None:
        """The record of a key as stored, expired or not, or None."""
        return await self._read(call_ops.read_idem, scope, key)

    # Reads.

    async def get_job(self, job_id: str) -> JobRecord | None:
        """One job, or None."""
        return await self._read(ops.read_job, job_id)

    async def list_jobs(
        self, *, status: str | None = None, principal: str | None = None, limit: int = 50
    ) -> list[JobRecord]:
        """Up to ``limit`` jobs, newest first, of one status and one principal if given."""
        return await self._read(ops.read_jobs, status, principal, max(limit, 0))

    async def cancelled_ids(self, job_ids: list[str]) -> set[str]:
        """Those of the given jobs that have a cancel request, in one query."""
        if not job_ids:
            self._live_writer()
            return set()
        return await self._read(ops.read_cancelled, ops.encode(list(job_ids)))

    async def steps(self, job_id: str) -> list[StepRecord]:
        """The latest attempt of every step of a job, in the order the steps first started."""
        return await self._read(ops.read_steps, job_id)

    async def events(self, job_id: str, *, after: int = 0) -> list[EventRecord]:
        """A job's events with ``seq`` above ``after``, in order."""
        return await self._read(ops.read_events, job_id, after)

    async def trace(self, job_id: str) -> list[TraceRecord]:
        """A job's trace nodes, in the order recorded."""
        return await self._read(trace_ops.read_trace, job_id)


def from_url(url: str, *, synchronous: str = "normal") -> SQLiteJobStore:
    """The store of a ``sqlite:///path`` URL (what ``open_store`` calls for this scheme)."""
    if not url.startswith(_URL_PREFIX):
        raise ConfigError(f"unsupported store '{url}': a SQLite store is {_URL_FORM}")
    return SQLiteJobStore(url.removeprefix(_URL_PREFIX), synchronous=synchronous)
