"""A pending idempotency record holds its key only while its owner lives: the owner renews
a short lease while the call runs, so a killed caller's key is free again within seconds,
and a live caller keeps its key however long its call takes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

from agentgo_cli.a2a.idempotency import Idempotency
from agentgo_cli.store import IDEM_LEASE_S, JobStore
from tests.a2a.test_idempotency import CHILD
from tests.conftest import REPO, StoreDB

VALUE = {"n": 1, "text": "é"}


async def test_a_killed_holder_frees_its_key_within_seconds(
    store: JobStore, store_db: StoreDB
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        store_db.url,
        "hold",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 10) == b"held\n"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    started = time.monotonic()
    begun = await asyncio.wait_for(Idempotency(store).begin("race.intent", "k", VALUE, 60), 20)
    assert begun.action == "run"  # taken over from the dead holder
    assert time.monotonic() - started <= IDEM_LEASE_S + 2 <= 15
    await Idempotency(store).finish(begun, "succeeded", "mine")


async def test_a_live_holder_keeps_its_key_while_its_call_outlasts_the_lease(
    store: JobStore,
) -> None:
    holder, waiter = Idempotency(store), Idempotency(store)
    begun = await holder.begin("slow.intent", "k", VALUE, 60, lease_s=0.3)
    assert begun.action == "run"

    async def slow_call() -> None:
        await asyncio.sleep(1.2)  # four leases long: the holder renews meanwhile
        await holder.finish(begun, "succeeded", "the slow answer")

    finished, second = await asyncio.gather(
        slow_call(), waiter.begin("slow.intent", "k", VALUE, 60, lease_s=0.3)
    )
    assert (second.action, second.result) == ("replay", "the slow answer")


async def test_a_finished_call_stops_renewing(store: JobStore) -> None:
    idem = Idempotency(store)
    begun = await idem.begin("quick.intent", "k", VALUE, 60, lease_s=0.3)
    await idem.finish(begun, "failed", error="no luck")
    await asyncio.sleep(0.2)
    assert await store.idem_get("quick.intent", "k") is None  # freed, and not brought back
