"""Idempotency: one run per key, replays of its result, conflicts, expiry, takeovers, and
racers in one loop, on two stores and in several processes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.a2a import idempotency as idempotency_module
from agentgo_cli.a2a.idempotency import Begin, Idempotency, input_hash
from agentgo_cli.store import JobStore
from tests.a2a._idem_child import race
from tests.conftest import StoreDB

CHILD = Path(__file__).with_name("_idem_child.py")
REPO = Path(__file__).resolve().parents[2]
SCOPE = "research.summarize"


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_input_hash_is_the_sha256_of_canonical_json() -> None:
    expected = hashlib.sha256('{"a":[1,{"c":null,"d":"é"}],"b":2}'.encode()).hexdigest()
    assert input_hash({"b": 2, "a": [1, {"d": "é", "c": None}]}) == expected
    assert input_hash({"a": 1}) != input_hash({"a": "1"})
    assert input_hash([1, 2]) != input_hash([2, 1])


async def test_the_first_call_runs_and_the_next_replays(store: JobStore) -> None:
    idem = Idempotency(store)
    first = await idem.begin(SCOPE, "k", {"topic": "x"}, 60)
    assert first.action == "run"
    await idem.finish(first, "succeeded", {"summary": "done"})
    again = await idem.begin(SCOPE, "k", {"topic": "x"}, 60)
    assert (again.action, again.result) == ("replay", {"summary": "done"})
    assert again.record.owner == first.record.owner


async def test_the_same_key_with_another_input_is_a_conflict(store: JobStore) -> None:
    idem = Idempotency(store)
    begun = await idem.begin(SCOPE, "k", {"topic": "x"}, 60)
    assert (await idem.begin(SCOPE, "k", {"topic": "y"}, 60)).action == "conflict"  # pending
    await idem.finish(begun, "succeeded", "out")
    assert (await idem.begin(SCOPE, "k", {"topic": "y"}, 60)).action == "conflict"


async def test_keys_belong_to_one_intent(store: JobStore) -> None:
    idem = Idempotency(store)
    assert (await idem.begin(SCOPE, "k", 1, 60)).action == "run"
    assert (await idem.begin("research.other", "k", 2, 60)).action == "run"


async def test_a_failed_call_lets_the_key_run_again(store: JobStore) -> None:
    idem = Idempotency(store)
    begun = await idem.begin(SCOPE, "k", 1, 60)
    await idem.finish(begun, "failed", None, "the target broke")
    assert (await idem.begin(SCOPE, "k", 1, 60)).action == "run"


async def test_a_record_expires_after_the_ttl(store: JobStore) -> None:
    clock = Clock()
    idem = Idempotency(store, clock=clock)
    await idem.finish(await idem.begin(SCOPE, "k", 1, 60), "succeeded", "old")
    clock.now += 59
    assert (await idem.begin(SCOPE, "k", 2, 60)).action == "conflict"
    clock.now += 2
    assert (await idem.begin(SCOPE, "k", 2, 60)).action == "run"


async def test_only_a_call_told_to_run_finishes(store: JobStore) -> None:
    idem = Idempotency(store)
    await idem.finish(await idem.begin(SCOPE, "k", 1, 60), "succeeded", "out")
    replay = await idem.begin(SCOPE, "k", 1, 60)
    with pytest.raises(
        ValueError, match="^only a call told to run can finish, not one told to replay$"
    ):
        await idem.finish(replay, "succeeded", "other")


async def test_fifty_racers_run_the_target_once(store: JobStore) -> None:
    idem = Idempotency(store)
    outcomes = await asyncio.gather(*(race(idem, f"racer {i}") for i in range(50)))
    actions = [action for action, _ in outcomes]
    assert actions.count("run") == 1 and actions.count("replay") == 49
    (winner,) = [result for action, result in outcomes if action == "run"]
    assert all(result == winner for _, result in outcomes)


async def test_a_waiter_wakes_when_the_call_finishes_here(
    store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency_module, "_FIRST_POLL", 30.0)  # polling would time out
    idem = Idempotency(store)
    begun = await idem.begin(SCOPE, "k", 1, 60)
    waiter = asyncio.ensure_future(idem.begin(SCOPE, "k", 1, 60))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await idem.finish(begun, "succeeded", "out")
    begun = await asyncio.wait_for(waiter, 2)  # not the 30 s of the next poll
    assert (begun.action, begun.result) == ("replay", "out")


async def test_a_waiter_runs_the_call_when_the_owner_fails(store: JobStore) -> None:
    idem = Idempotency(store)
    begun = await idem.begin(SCOPE, "k", 1, 60)
    waiter = asyncio.ensure_future(idem.begin(SCOPE, "k", 1, 60))
    await asyncio.sleep(0.05)
    await idem.finish(begun, "failed", None, "boom")
    assert (await asyncio.wait_for(waiter, 1)).action == "run"


async def dead_owners_call(store: JobStore, value: Any, lease_s: float) -> Begin:
    """A pending call whose owner died: its record holds the key, and nobody renews it."""
    record = await store.idem_begin(
        SCOPE, "k", input_hash(value), "dead-owner", 60, time.time(), lease_s=lease_s
    )
    return Begin("run", record)


async def test_a_waiter_takes_over_a_call_whose_lease_ran_out(store: JobStore) -> None:
    idem = Idempotency(store)
    stalled = await dead_owners_call(store, 1, 0.1)
    started = time.perf_counter()
    begun = await asyncio.wait_for(idem.begin(SCOPE, "k", 1, 60), 2)
    assert begun.action == "run"
    assert time.perf_counter() - started >= 0.09
    await idem.finish(begun, "succeeded", "second")
    await idem.finish(stalled, "succeeded", "first, too late")  # no longer the owner
    assert (await idem.begin(SCOPE, "k", 1, 60)).result == "second"


async def test_a_late_owner_cannot_store_its_result_under_another_input(
    store: JobStore,
) -> None:
    idem = Idempotency(store)
    stalled = await dead_owners_call(store, "x", 0.05)
    await asyncio.sleep(0.06)
    taken = await idem.begin(SCOPE, "k", "y", 60)  # the lease ran out: a new input may run
    assert taken.action == "run"
    await idem.finish(stalled, "succeeded", "result of x")
    await idem.finish(taken, "succeeded", "result of y")
    assert (await idem.begin(SCOPE, "k", "y", 60)).result == "result of y"
    assert (await idem.begin(SCOPE, "k", "x", 60)).action == "conflict"


async def test_racers_on_two_stores_of_one_database_run_once(store_db: StoreDB) -> None:
    async with store_db.running() as one, store_db.running() as two:
        sides = [Idempotency(one), Idempotency(two)]
        outcomes = await asyncio.gather(*(race(sides[i % 2], f"racer {i}") for i in range(40)))
    actions = [action for action, _ in outcomes]
    assert actions.count("run") == 1 and actions.count("replay") == 39
    assert len({json.dumps(result) for _, result in outcomes}) == 1


async def test_racers_in_three_processes_run_once(store: JobStore, store_db: StoreDB) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(CHILD),
            store_db.url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert await asyncio.wait_for(child.stdout.readline(), 10) == b"ready\n"
        idem = Idempotency(store)
        done = await asyncio.wait_for(
            asyncio.gather(
                *(child.communicate(b"go\n") for child in children),
                *(race(idem, f"parent {i}") for i in range(10)),
            ),
            10,
        )
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    outcomes: list[Any] = [json.loads(out) for out, _ in done[:2]] + [list(o) for o in done[2:]]
    actions = [action for action, _ in outcomes]
    assert actions.count("run") == 1 and actions.count("replay") == 11, outcomes
    assert len({json.dumps(result) for _, result in outcomes}) == 1
    assert all(child.returncode == 0 for child in children)
