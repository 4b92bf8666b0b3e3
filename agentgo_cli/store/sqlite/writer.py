"""The single writer of a SQLite job store: one thread, one connection, group commit.

Coroutines put ``(operation, arguments, future)`` on a queue and return at once (no future)
or await the future. The thread waits for the first item, takes whatever else is queued
without waiting (up to ``MAX_BATCH``), runs the whole batch in one transaction and commits,
then hands every result back to the event loop with one ``call_soon_threadsafe``. So one
commit (and, with ``synchronous=FULL``, one fsync) serves every write queued meanwhile, and
a lone sequential caller pays for just one transaction per write. Within a batch,
consecutive calls of an operation that has a ``many`` form are applied by it at once
(``executemany``).

Queue order is execution order: an item is applied, and committed, no later than any item
queued after it. A batch in which an operation fails is rolled back and replayed one
operation per transaction, so only the caller of the failing operation sees the error. When
BEGIN or COMMIT fails (the database is locked by another process past the busy timeout, the
disk is full), every write of the batch fails with that error.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from agentgo_cli.errors import StoreError

__all__ = ["MAX_BATCH", "InlineWriter", "Item", "ManyOperation", "Operation", "Writer"]

Operation = Callable[..., Any]
"""Runs inside the writer's transaction as ``operation(connection, *arguments)``."""

ManyOperation = Callable[[sqlite3.Connection, list[tuple[Any, ...]]], None]
"""Does what an operation returning None does, for the arguments of consecutive calls."""

Item = tuple[Operation, tuple[Any, ...], "asyncio.Future[Any] | None"]
"""(operation, arguments, the future of its result or None when nobody waits)."""
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]

MAX_BATCH = 5000

_log = logging.getLogger(__name__)


def _stop(conn: sqlite3.Connection) -> None:
    """Mark the end of the queue: the writer commits what came before, then exits."""


def _resolve(outcomes: list[_Outcome]) -> None:
    """On the event loop: settle the futures of one batch; a cancelled caller is skipped."""
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            _log.exception("rollback failed")


class Writer:
    """The thread that owns the write connection and commits queued operations in batches."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        to_store_error: Callable[[BaseException], BaseException],
        *,
        many: dict[Operation, ManyOperation] | None = None,
        phases: dict[Operation, int] | None = None,
        name: str = "agentgo-store-writer",
    ) -> None:
        self._connect = connect
        self._to_store_error = to_store_error
        self._many = many or {}
        self._phases = phases or {}
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.batches = 0
        """Transactions committed so far (read by tests and benchmarks)."""

    def start(self) -> asyncio.Future[None]:
        """Open the connection on the thread; the future is done when it is ready."""
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._thread.start()
        return self._ready

    def submit(self, operation: Operation, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Queue an operation; the future holds its result once its batch is committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put((operation, args, future))
        return future

    def submit_nowait(self, operation: Operation, args: tuple[Any, ...]) -> None:
        """Queue an operation that nobody waits for; a failure is logged."""
        self._queue.put((operation, args, None))

    def stop(self) -> asyncio.Future[Any]:
        """Queue the end: every item queued before it is committed, then the thread exits."""
        return self.submit(_stop, ())

    def stop_nowait(self) -> None:
        """Queue the end without waiting for it."""
        self._queue.put((_stop, (), None))

    async def join(self) -> None:
        """Wait for the thread to exit."""
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    # The thread.

    def _main(self) -> None:
        ready = self._ready
        try:
            conn = self._connect()
        except Exception as exc:
            self._settle([(ready, None, self._to_store_error(exc))])
            self._fail_queued()
            return
        self._settle([(ready, None, None)])
        stop: Item | None = None
        try:
            stop = self._serve(conn)
        finally:
            try:
                conn.close()
            except sqlite3.Error:
                _log.exception("closing the job store failed")
            if stop is not None and stop[2] is not None:
                self._settle([(stop[2], None, None)])
            self._fail_queued()

    def _serve(self, conn: sqlite3.Connection) -> Item:
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            batch = [get()]
            try:
                while len(batch) < MAX_BATCH:
                    batch.append(get_nowait())
            except queue.Empty:
                pass
            stops = [item for item in batch if item[0] is _stop]
            if stops:
                batch = [item for item in batch if item[0] is not _stop]
            if batch:
                try:
                    outcomes = self._run(conn, batch)
                except Exception as exc:  # a bug here must not leave callers waiting
                    _log.exception("job store writer failed")
                    outcomes = [(f, None, exc) for _, _, f in batch if f is not None]
                self._settle(outcomes)
            if stops:
                return stops[0]

    def _run(self, conn: sqlite3.Connection, batch: list[Item]) -> list[_Outcome]:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:  # locked by another process, or unwritable: nothing ran
            return self._all_failed(batch, exc)
        outcomes: list[_Outcome] = []
        try:
            if self._many and len(batch) > 1:
                self._apply_runs(conn, self._grouped(batch), outcomes)
            else:
                for operation, args, future in batch:
                    result = operation(conn, *args)
                    if future is not None:
                        outcomes.append((future, result, None))
        except Exception as exc:
            _rollback(conn)
            if len(batch) == 1:
                return self._all_failed(batch, exc)
            # Replay one operation per transaction, so only the failing one reports.
            return [outcome for item in batch for outcome in self._run(conn, [item])]
        try:
            conn.execute("COMMIT")
        except Exception as exc:  # disk full or I/O error: replaying would fail the same way
            _rollback(conn)
            return self._all_failed(batch, exc)
        self.batches += 1
        return outcomes

    def _grouped(self, batch: list[Item]) -> list[Item]:
        """The batch regrouped by phase when that cannot change any job's own order."""
        phases = self._phases
        if not phases or any(item[0] not in phases for item in batch):
            return batch
        # A key started again after it finished in this batch would be wiped by the regroup.
        finished: set[tuple[Any, Any]] = set()
        started_after = False
        for operation, args, _ in batch:
            if phases[operation] == 2:
                finished.add(args[:2])
            elif phases[operation] == 1 and args[:2] in finished:
                started_after = True
                break
        if started_after:
            return batch
        buckets: dict[int, list[Item]] = {}  # a stable sort by phase, in one pass
        for item in batch:
            phase = phases[item[0]]
            bucket = buckets.get(phase)
            if bucket is None:
                buckets[phase] = [item]
            else:
                bucket.append(item)
        return [item for phase in sorted(buckets) for item in buckets[phase]]

    def _apply_runs(
        self, conn: sqlite3.Connection, batch: list[Item], outcomes: list[_Outcome]
    ) -> None:
        """Apply a batch, each run of consecutive calls of a batchable operation at once."""
        many = self._many
        i, n = 0, len(batch)
        while i < n:
            operation, args, future = batch[i]
            run_many = many.get(operation)
            j = i + 1
            if run_many is not None:
                while j < n and batch[j][0] is operation:
                    j += 1
            if j - i == 1 or run_many is None:
                result = operation(conn, *args)
                if future is not None:
                    outcomes.append((future, result, None))
            else:
                run = batch[i:j]
                run_many(conn, [item[1] for item in run])
                outcomes.extend((f, None, None) for _, _, f in run if f is not None)
            i = j

    def _all_failed(self, batch: list[Item], exc: Exception) -> list[_Outcome]:
        error = self._to_store_error(exc)
        lost = [item for item in batch if item[2] is None]
        if lost:
            operation, args, _ = lost[0]
            _log.error(
                "job store: %d write(s) nobody waited for were lost, the first %s%r: %s",
                len(lost),
                operation.__name__,
                args[:2],
                error,
            )
        return [(future, None, error) for _, _, future in batch if future is not None]

    def _settle(self, outcomes: list[_Outcome]) -> None:
        """Hand results to the loop(s) of their futures: one call per loop per batch."""
        if not outcomes:
            return
        loop = outcomes[0][0].get_loop()
        if any(future.get_loop() is not loop for future, _, _ in outcomes):
            by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            for outcome in outcomes:
                by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
        else:
            by_loop = {loop: outcomes}
        for target, part in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                target.call_soon_threadsafe(_resolve, part)

    def _fail_queued(self) -> None:
        """After the end: fail whatever was still queued, so nobody waits forever."""
        outcomes: list[_Outcome] = []
        while True:
            try:
                _, _, future = self._queue.get_nowait()
            except queue.Empty:
                break
            if future is not None:
                outcomes.append((future, None, StoreError("store is closed")))
        self._settle(outcomes)


class InlineWriter(Writer):
    """The same group commit, run by a task on the event loop instead of a thread.

    With ``synchronous=NORMAL`` a WAL commit does not wait for the disk (about 30 µs), while
    handing each write to a thread and back costs two wake-ups (about 170 µs on a small VM).
    So for NORMAL the batches run on the loop itself: everything queued while the loop was
    busy elsewhere forms one batch, one transaction, one commit. ``FULL`` keeps the thread,
    because its fsync would block the loop.
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        to_store_error: Callable[[BaseException], BaseException],
        *,
        many: dict[Operation, ManyOperation] | None = None,
        phases: dict[Operation, int] | None = None,
        name: str = "agentgo-store-writer",
    ) -> None:
        super().__init__(connect, to_store_error, many=many, phases=phases, name=name)
        self._items: collections.deque[Item] = collections.deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._wake = asyncio.Event()
        try:
            conn = self._connect()
        except Exception as exc:
            self._closed = True
            self._ready.set_exception(self._to_store_error(exc))
            return self._ready
        self._ready.set_result(None)
        self._task = loop.create_task(self._serve_inline(conn), name="agentgo-store-writer")
        return self._ready

    def submit(self, operation: Operation, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._closed:
            future.set_exception(StoreError("store is closed"))
            return future
        self._items.append((operation, args, future))
        self._poke()
        return future

    def submit_nowait(self, operation: Operation, args: tuple[Any, ...]) -> None:
        if not self._closed:
            self._items.append((operation, args, None))
            self._poke()

    def stop_nowait(self) -> None:
        self.submit_nowait(_stop, ())

    async def join(self) -> None:
        if self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _serve_inline(self, conn: sqlite3.Connection) -> None:
        items, wake = self._items, self._wake
        assert wake is not None
        stop: Item | None = None
        try:
            while stop is None:
                if not items:
                    wake.clear()
                    await wake.wait()
                batch: list[Item] = []
                while items and len(batch) < MAX_BATCH:
                    item = items.popleft()
                    if item[0] is _stop:
                        stop = item
                        break
                    batch.append(item)
                if batch:
                    try:
                        outcomes = self._run(conn, batch)
                    except Exception as exc:  # a bug here must not leave callers waiting
                        _log.exception("job store writer failed")
                        outcomes = [(f, None, exc) for _, _, f in batch if f is not None]
                    _resolve(outcomes)
        finally:
            self._closed = True
            try:
                conn.close()
            except sqlite3.Error:
                _log.exception("closing the job store failed")
            if stop is not None and stop[2] is not None and not stop[2].done():
                stop[2].set_result(None)
            self._fail_queued()

    def _fail_queued(self) -> None:
        outcomes: list[_Outcome] = []
        while self._items:
            _, _, future = self._items.popleft()
            if future is not None:
                outcomes.append((future, None, StoreError("store is closed")))
        _resolve(outcomes)
