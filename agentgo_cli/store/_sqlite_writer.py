"""The single writer of a SQLite job store: one thread, one connection, group commit.

Coroutines put ``(operation, arguments, future)`` on a queue and return at once (no future)
or await the future. The thread waits for the first item, takes whatever else is queued
without waiting (up to ``MAX_BATCH``), runs the whole batch in one transaction and commits,
then hands every result back to the event loop with one ``call_soon_threadsafe``. So one
commit (and, with ``synchronous=FULL``, one fsync) serves every write queued meanwhile, and
a lone sequential caller pays for just one transaction per write.

Queue order is execution order: an item committed before a later one was queued. A batch
that fails is rolled back and replayed one operation per transaction, so only the caller of
the failing operation sees the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from agentgo_cli.errors import StoreError

__all__ = ["MAX_BATCH", "Item", "Operation", "Writer"]

Operation = Callable[..., Any]
"""Runs inside the writer's transaction as ``operation(connection, *arguments)``."""

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
        name: str = "agentgo-store-writer",
    ) -> None:
        self._connect = connect
        self._to_store_error = to_store_error
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
