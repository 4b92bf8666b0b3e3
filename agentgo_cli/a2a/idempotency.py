"""Idempotency of typed calls: one key, one run, the same answer for every caller.

A call made with an idempotency key first claims the key in the job store, within a scope
(the intent's name, not its version, plus whatever the caller adds):

- nobody holds it: the caller owns it (``run``), dispatches, then calls ``finish`` with
  the ``Begin`` it got;
- a finished call with the same input holds it: its stored result answers (``replay``),
  nothing is dispatched;
- a call with a different input holds it (finished or not): ``conflict``;
- a call with the same input is still running (pending): ``begin`` waits until it
  finishes, then replays its result. Many callers racing one key therefore run the target
  once. The wait polls the store (10 ms, doubling up to 200 ms), and wakes at once when the
  owner finishes in this process.

A record lives for the intent's TTL from when its call began. A failed call deletes its
record instead of storing the failure, so the same key may run again: a failure is worth a
retry, not a replay. Callers that were waiting on it then claim the key anew, and one of
them runs. A pending record whose owner died would block its key forever, so it holds the
key only for a short lease (``lease_s``, default ``IDEM_LEASE_S``), which its owner renews
every third of it while the call runs: a live call keeps its key however long it takes, and
a killed caller's key is taken over by the next caller within one lease. Bound waiting with
a timeout around ``begin``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agentgo_cli.store.base import IDEM_LEASE_S

if TYPE_CHECKING:
    from agentgo_cli.store.base import CallStore, IdemRecord

__all__ = ["Begin", "Idempotency", "input_hash"]

_FIRST_POLL = 0.01
_LAST_POLL = 0.2
_log = logging.getLogger(__name__)

_Slot = tuple[str, str]
"""(scope, key)."""


def input_hash(value: Any) -> str:
    """The sha256 of a value's canonical JSON (sorted keys, no spaces, UTF-8 as is): equal
    for equal inputs whatever their key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Begin:
    """What a caller does with a key: ``run`` the call (then pass this to ``finish``),
    ``replay`` the stored result, or refuse a ``conflict`` (the key was used with another
    input)."""

    action: Literal["run", "replay", "conflict"]
    record: IdemRecord
    """The record that decided it (ours when ``run``)."""

    @property
    def result(self) -> Any:
        """The stored result to return (``replay``)."""
        return self.record.result


class Idempotency:
    """Claims keys in a store and hands out stored results.

    Share one per store in a process: waiters wake early when a call finishes through the
    same instance (others find out by polling).
    """

    def __init__(self, store: CallStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        """Wall-clock time, shared by every process on the store (tests inject their own)."""
        self._wakeups: weakref.WeakValueDictionary[_Slot, asyncio.Event] = (
            weakref.WeakValueDictionary()
        )
        """An event per key someone here waits on; it goes away with its last waiter."""
        self._held: dict[_Slot, tuple[str, float]] = {}
        """The keys whose calls run here, with their owner token and lease: kept renewed."""
        self._renewer: asyncio.Task[None] | None = None

    async def begin(
        self, scope: str, key: str, value: Any, ttl_s: float, *, lease_s: float = IDEM_LEASE_S
    ) -> Begin:
        """Claim ``key`` for a call with input ``value``; see the module docstring."""
        digest, owner = input_hash(value), _new_owner()
        record = await self._claim(scope, key, digest, owner, ttl_s, lease_s)
        delay = _FIRST_POLL
        while True:
            if record.owner == owner:
                self._hold((scope, key), owner, lease_s)
                return Begin("run", record)
            if record.input_hash != digest:
                return Begin("conflict", record)
            if record.status == "succeeded":
                return Begin("replay", record)
            await self._pause((scope, key), delay)
            delay = min(delay * 2, _LAST_POLL)
            seen = await self._store.idem_get(scope, key)
            if seen is not None and seen.is_live(self._clock()):
                record = seen
            else:  # finished and expired, failed (deleted), or its lease ran out
                record = await self._claim(scope, key, digest, owner, ttl_s, lease_s)

    async def finish(
        self, begun: Begin, status: str, result: Any = None, error: str | None = None
    ) -> None:
        """End a call that ``begin`` told to run: ``succeeded`` stores ``result`` for
        replays, ``failed`` frees the key (``error`` is only logged).

        The call is named by its ``Begin``, not by its key: after a takeover two calls of
        one key may be running, and only the current owner's result may be stored.
        """
        if begun.action != "run":
            raise ValueError(f"only a call told to run can finish, not one told to {begun.action}")
        scope, key, owner = begun.record.scope, begun.record.key, begun.record.owner
        if self._held.get((scope, key), (None, 0.0))[0] == owner:
            del self._held[(scope, key)]
        try:
            stored = result if status == "succeeded" else None
            await self._store.idem_finish(scope, key, owner, status, stored)
        finally:
            event = self._wakeups.pop((scope, key), None)
            if event is not None:
                event.set()
        if status == "failed":
            _log.debug("%s: idempotency key '%s' freed after a failure: %s", scope, key, error)

    def _hold(self, slot: _Slot, owner: str, lease_s: float) -> None:
        """Keep renewing the lease of a call that runs here until it finishes."""
        self._held[slot] = (owner, lease_s)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.ensure_future(self._renew())

    async def _renew(self) -> None:
        """Renew every held lease each third of the shortest one, while any is held; a
        record that is no longer ours (taken over after a stall) is let go."""
        while self._held:
            await asyncio.sleep(min(lease for _, lease in self._held.values()) / 3)
            for slot, (owner, lease) in list(self._held.items()):
                until = self._clock() + lease
                try:
                    mine = await self._store.idem_renew(slot[0], slot[1], owner, until)
                except Exception as exc:  # the store is closing: the lease lapses
                    _log.debug("idempotency: lease of '%s' not renewed: %s", slot[1], exc)
                    mine = False
                if not mine and self._held.get(slot, (None, 0.0))[0] == owner:
                    del self._held[slot]

    async def _claim(
        self, scope: str, key: str, digest: str, owner: str, ttl_s: float, lease_s: float
    ) -> IdemRecord:
        return await self._store.idem_begin(
            scope, key, digest, owner, ttl_s, self._clock(), lease_s=lease_s
        )

    async def _pause(self, slot: _Slot, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if a call of this key finishes here meanwhile."""
        event = self._wakeups.get(slot)
        if event is None:
            event = self._wakeups[slot] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await event.wait()


def _new_owner() -> str:
    """A token unique to one call: host, process and a random part (readable in the store)."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:12]}"
