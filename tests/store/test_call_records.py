"""The CallStore contract: rate-limit buckets and idempotency records, on every store dialect.

Time is passed in (``now``), so expiry, leases and refills are tested without sleeping.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentgo_cli.errors import StoreError, ValueNotStorable
from agentgo_cli.store.base import CallStore, JobStore
from tests.conftest import StoreDB
from tests.store.test_contract import NESTED

T0 = 1_000_000.0


async def _begin(
    store: CallStore,
    owner: str,
    now: float = T0,
    *,
    key: str = "k1",
    digest: str = "h1",
    ttl: float = 60.0,
    lease: float = 10.0,
) -> Any:
    return await store.idem_begin("research.summarize", key, digest, owner, ttl, now, lease_s=lease)


# Token buckets


async def test_a_new_bucket_is_full_then_refuses_with_the_time_to_the_next_token(
    store: JobStore,
) -> None:
    waits = [await store.take_token("b", 0.5, 3, T0) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(2.0)  # one token every 2 s
    assert await store.take_token("b", 0.5, 3, T0 + 0.5) == pytest.approx(1.5)


async def test_tokens_refill_with_time_up_to_the_capacity(store: JobStore) -> None:
    for _ in range(3):
        await store.take_token("b", 1.0, 3, T0)
    assert await store.take_token("b", 1.0, 3, T0 + 0.99) > 0
    assert await store.take_token("b", 1.0, 3, T0 + 1.0) == 0.0  # refusals took nothing
    assert await store.take_token("b", 1.0, 3, T0 + 1.5) > 0
    later = T0 + 3600
    assert [await store.take_token("b", 1.0, 3, later) for _ in range(4)][-2:] == [0.0, 1.0]


async def test_a_slow_rate_adds_up_to_whole_tokens(store: JobStore) -> None:
    rate = 7 / 60  # 7 a minute: each token is a sum of inexact fractions
    assert await store.take_token("b", rate, 1, T0) == 0.0
    for i in range(1, 8):
        assert await store.take_token("b", rate, 1, T0 + i * 60 / 7) == 0.0, i


async def test_buckets_are_separate(store: JobStore) -> None:
    assert await store.take_token("intent|user:a", 1.0, 1, T0) == 0.0
    assert await store.take_token("intent|user:b", 1.0, 1, T0) == 0.0
    assert await store.take_token("intent|user:a", 1.0, 1, T0) > 0


async def test_a_bucket_is_bad_without_rate_or_room(store: JobStore) -> None:
    with pytest.raises(ValueError, match="positive rate and room for a token, not 0.0/s and 1"):
        await store.take_token("b", 0.0, 1, T0)
    with pytest.raises(ValueError, match="not 1.0/s and 0.5"):
        await store.take_token("b", 1.0, 0.5, T0)


async def test_concurrent_takes_never_overdraw(store_db: StoreDB) -> None:
    async with store_db.running() as one, store_db.running() as two:
        waits = await asyncio.gather(
            *(store.take_token("b", 0.001, 10, T0) for store in [one, two] * 20)
        )
    assert waits.count(0.0) == 10


# Idempotency records


async def test_begin_claims_a_free_key_and_shows_it_to_others(store: JobStore) -> None:
    mine = await _begin(store, "me")
    assert (mine.status, mine.owner, mine.input_hash, mine.result) == ("pending", "me", "h1", None)
    assert (mine.created_at, mine.expires_at, mine.lease_expires) == (T0, T0 + 60, T0 + 10)
    theirs = await _begin(store, "you", T0 + 1)
    assert theirs == mine
    assert await store.idem_get("research.summarize", "k1") == mine
    assert await store.idem_get("research.summarize", "other") is None
    assert await store.idem_get("other.intent", "k1") is None


async def test_a_finished_record_replays_its_result(store: JobStore) -> None:
    await _begin(store, "me")
    await store.idem_finish("research.summarize", "k1", "me", "succeeded", NESTED)
    record = await _begin(store, "you", T0 + 59)
    assert (record.status, record.owner, record.result) == ("succeeded", "me", NESTED)
    assert record.lease_expires is None


async def test_the_stored_hash_lets_the_caller_see_a_conflict(store: JobStore) -> None:
    await _begin(store, "me", digest="h1")
    assert (await _begin(store, "you", digest="h2")).input_hash == "h1"
    await store.idem_finish("research.summarize", "k1", "me", "succeeded", "out")
    record = await _begin(store, "you", digest="h2")
    assert (record.owner, record.input_hash) == ("me", "h1")


async def test_a_record_expires_after_its_ttl(store: JobStore) -> None:
    await _begin(store, "me", ttl=60)
    await store.idem_finish("research.summarize", "k1", "me", "succeeded", "old")
    assert (await _begin(store, "you", T0 + 60)).owner == "me"  # the last live instant
    fresh = await _begin(store, "you", T0 + 60.5, digest="h2")
    assert (fresh.owner, fresh.status, fresh.input_hash, fresh.result) == (
        "you",
        "pending",
        "h2",
        None,
    )
    assert fresh.created_at == T0 + 60.5


async def test_a_record_expires_even_among_many_stale_ones(store: JobStore) -> None:
    for i in range(20):  # more than one call purges
        await _begin(store, "me", key=f"old{i}", ttl=1)
        await store.idem_finish("research.summarize", f"old{i}", "me", "succeeded", i)
    await _begin(store, "me", ttl=2)
    await store.idem_finish("research.summarize", "k1", "me", "succeeded", "old")
    assert (await _begin(store, "you", T0 + 3)).owner == "you"


async def test_a_failed_call_deletes_its_record(store: JobStore) -> None:
    await _begin(store, "me")
    await store.idem_finish("research.summarize", "k1", "me", "failed", {"ignored": True})
    assert await store.idem_get("research.summarize", "k1") is None
    assert (await _begin(store, "you")).owner == "you"


async def test_only_the_owner_finishes_a_pending_record(store: JobStore) -> None:
    mine = await _begin(store, "me")
    await store.idem_finish("research.summarize", "k1", "you", "succeeded", "theirs")
    await store.idem_finish("research.summarize", "k1", "you", "failed")
    assert await store.idem_get("research.summarize", "k1") == mine
    await store.idem_finish("research.summarize", "k1", "me", "succeeded", "mine")
    await store.idem_finish("research.summarize", "k1", "me", "failed")  # done: no effect
    await store.idem_finish("research.summarize", "k1", "me", "succeeded", "again")
    record = await store.idem_get("research.summarize", "k1")
    assert record is not None and (record.status, record.result) == ("succeeded", "mine")


async def test_a_pending_record_is_taken_over_after_its_lease(store: JobStore) -> None:
    await _begin(store, "dead", lease=10)
    assert (await _begin(store, "you", T0 + 10)).owner == "dead"
    taken = await _begin(store, "you", T0 + 10.5)
    assert (taken.owner, taken.status, taken.lease_expires) == ("you", "pending", T0 + 20.5)
    await store.idem_finish("research.summarize", "k1", "dead", "succeeded", "late")
    record = await store.idem_get("research.summarize", "k1")
    assert record is not None and (record.owner, record.status) == ("you", "pending")


async def test_only_the_owner_renews_its_pending_lease(store: JobStore) -> None:
    await _begin(store, "me", lease=10)
    assert await store.idem_renew("research.summarize", "k1", "me", T0 + 25)
    assert not await store.idem_renew("research.summarize", "k1", "you", T0 + 99)
    assert not await store.idem_renew("research.summarize", "other", "me", T0 + 99)
    assert (await _begin(store, "you", T0 + 24)).owner == "me"  # renewed: still held
    taken = await _begin(store, "you", T0 + 25.5)  # not renewed again: taken over
    assert taken.owner == "you"
    assert not await store.idem_renew("research.summarize", "k1", "me", T0 + 40)
    await store.idem_finish("research.summarize", "k1", "you", "succeeded", "done")
    assert not await store.idem_renew("research.summarize", "k1", "you", T0 + 40)  # finished


async def test_a_pending_record_outlives_a_shorter_ttl(store: JobStore) -> None:
    await _begin(store, "me", ttl=1, lease=30)
    assert (await _begin(store, "you", T0 + 20)).owner == "me"
    await store.idem_finish("research.summarize", "k1", "me", "succeeded", "done")
    assert (await _begin(store, "you", T0 + 20)).owner == "you"  # finished and past its TTL


async def test_stale_records_are_purged_by_later_calls(store: JobStore) -> None:
    for i in range(3):
        await _begin(store, "me", key=f"old{i}", ttl=5)
        await store.idem_finish("research.summarize", f"old{i}", "me", "succeeded", i)
    await _begin(store, "me", key="running", ttl=5, lease=100)
    await store.take_token("idle", 1.0, 2, T0)
    await _begin(store, "me", T0 + 6, key="new")
    await store.take_token("busy", 1.0, 2, T0 + 6)
    for i in range(3):
        assert await store.idem_get("research.summarize", f"old{i}") is None
    assert await store.idem_get("research.summarize", "running") is not None  # leased
    # A purged idle bucket starts full again, as it would have been anyway.
    assert [await store.take_token("idle", 1.0, 2, T0 + 6) for _ in range(3)] == [0.0, 0.0, 1.0]


async def test_unstorable_results_and_bad_arguments_are_refused(store: JobStore) -> None:
    await _begin(store, "me")
    with pytest.raises(StoreError, match=r"^cannot store the result of call 'research.summar"):
        await store.idem_finish("research.summarize", "k1", "me", "succeeded", {1j})
    with pytest.raises(ValueNotStorable, match=r"^cannot store the result of call .*: Out of"):
        await store.idem_finish("research.summarize", "k1", "me", "succeeded", float("nan"))
    with pytest.raises(ValueError, match="^a call ends 'succeeded' or 'failed', not 'done'$"):
        await store.idem_finish("research.summarize", "k1", "me", "done")
    with pytest.raises(ValueError, match="TTL and lease must be positive, not 0, 10"):
        await _begin(store, "me", ttl=0)


async def test_concurrent_begins_elect_one_owner(store_db: StoreDB) -> None:
    async with store_db.running() as one, store_db.running() as two:
        records = await asyncio.gather(
            *(_begin(store, f"o{i}") for i, store in enumerate([one, two] * 25))
        )
    assert len({r.owner for r in records}) == 1
    assert all(r.status == "pending" for r in records)


async def test_call_records_survive_reopen_and_are_shared(store_db: StoreDB) -> None:
    async with store_db.running() as store:
        await _begin(store, "me")
        await store.idem_finish("research.summarize", "k1", "me", "succeeded", NESTED)
        await store.take_token("b", 1.0, 1, T0)
    async with store_db.running() as one, store_db.running() as two:
        record = await two.idem_get("research.summarize", "k1")
        assert record is not None and record.result == NESTED
        assert await one.take_token("b", 1.0, 1, T0 + 0.25) == pytest.approx(0.75)
        await _begin(one, "one", key="k2")
        assert (await _begin(two, "two", key="k2")).owner == "one"


async def test_call_records_need_a_running_store(store_db: StoreDB) -> None:
    store = store_db.make()
    with pytest.raises(StoreError, match=r"^store is not started$"):
        await store.take_token("b", 1.0, 1, T0)
    await store.start()
    await store.close()
    calls = [
        store.take_token("b", 1.0, 1, T0),
        _begin(store, "me"),
        store.idem_finish("research.summarize", "k1", "me", "succeeded"),
        store.idem_get("research.summarize", "k1"),
    ]
    for call in calls:
        with pytest.raises(StoreError, match=r"^store is closed$"):
            await call
