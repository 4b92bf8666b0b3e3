"""The JobStore contract: every store dialect must pass these tests, unchanged.

Tests use only the protocol (plus the dialect's reopen, migration and integrity hooks of
``store_db`` in tests/conftest.py), so a new dialect joins by adding a parameter to the
``store_db`` fixture.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agentgo_cli.errors import LeaseLost, StoreError
from agentgo_cli.store import EventRecord, JobStore, Lease, open_store
from tests.conftest import StoreDB

CHILD = Path(__file__).with_name("_crash_child.py")
REPO = Path(__file__).resolve().parents[2]

NESTED = {
    "text": "Grüße, 世界 — ✓ \U0001f600",
    "list": [1, 2.5, None, True, {"deep": ["a", {"b": None}]}],
    "empty": {},
    "quote": 'say "hi"\n\tand \\ more',
}


async def _job(store: JobStore, workflow: str = "wf", **kwargs: Any) -> str:
    record = await store.create_job(workflow, {"topic": workflow}, ["/m/a.yaml"], **kwargs)
    return record.id


# Jobs


async def test_create_and_get(store: JobStore) -> None:
    before = time.time()
    job = await store.create_job("research", {"topic": "é", "n": [1, None]}, ["/m/a.yaml"])
    assert re.fullmatch(r"j-[0-9a-hjkmnp-tv-z]{12}", job.id)
    assert job.workflow == "research"
    assert job.status == "queued"
    assert job.inputs == {"topic": "é", "n": [1, None]}
    assert job.manifests == ["/m/a.yaml"]
    assert before <= job.created_at == job.updated_at <= time.time()
    assert (job.outputs, job.error, job.lease_owner, job.lease_expires) == (None,) * 4
    assert (job.cancel_requested, job.tokens, job.cost_usd) == (False, 0, 0.0)
    assert await store.get_job(job.id) == job
    assert await store.get_job("j-unknown") is None


async def test_create_running_takes_a_lease(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status="running", lease_owner="me", lease_seconds=60)
    assert (job.status, job.lease_owner) == ("running", "me")
    assert job.lease_expires == pytest.approx(job.created_at + 60)
    assert await store.get_job(job.id) == job


async def test_create_rejects_a_finished_status(store: JobStore) -> None:
    with pytest.raises(ValueError, match="'succeeded'"):
        await store.create_job("wf", {}, [], status="succeeded")


async def test_job_ids_are_unique_and_sorted(store: JobStore) -> None:
    jobs = [await store.create_job("wf", {}, []) for _ in range(50)]
    ids = [job.id for job in jobs]
    assert ids == sorted(ids)
    many = await asyncio.gather(*(store.create_job("wf", {}, []) for _ in range(500)))
    assert len({job.id for job in many} | set(ids)) == 550


async def test_list_jobs_newest_first_with_status_and_limit(store: JobStore) -> None:
    ids = [await _job(store, f"wf{i}") for i in range(5)]
    await store.job_finished(ids[1], "succeeded")
    await store.job_finished(ids[3], "failed", error="boom")
    assert [j.id for j in await store.list_jobs()] == ids[::-1]
    assert [j.id for j in await store.list_jobs(limit=2)] == [ids[4], ids[3]]
    assert [j.id for j in await store.list_jobs(status="queued")] == [ids[4], ids[2], ids[0]]
    assert [j.id for j in await store.list_jobs(status="failed")] == [ids[3]]
    assert await store.list_jobs(status="cancelled") == []
    assert await store.list_jobs(limit=0) == []


async def test_list_jobs_of_one_principal(store: JobStore) -> None:
    made = []
    for n, who in enumerate(["user:alice", "user:bob", "user:alice", None, "user:alice"]):
        job = await store.create_job(f"wf{n}", {}, [], principal=who)
        made.append(job.id)
    await store.job_finished(made[2], "failed", error="boom")
    alice = [j.id for j in await store.list_jobs(principal="user:alice")]
    assert alice == [made[4], made[2], made[0]]
    assert [j.id for j in await store.list_jobs(principal="user:bob")] == [made[1]]
    failed = await store.list_jobs(principal="user:alice", status="failed")
    assert [j.id for j in failed] == [made[2]]
    assert await store.list_jobs(principal="user:bob", status="failed") == []
    assert [j.id for j in await store.list_jobs(principal="user:alice", limit=1)] == [made[4]]
    assert await store.list_jobs(principal="user:carol") == []


async def test_job_finished_records_outputs_and_clears_the_lease(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status="running", lease_owner="me")
    await store.job_finished(job.id, "succeeded", outputs={"answer": NESTED})
    done = await store.get_job(job.id)
    assert done is not None
    assert (done.status, done.outputs, done.error) == ("succeeded", {"answer": NESTED}, None)
    assert (done.lease_owner, done.lease_expires) == (None, None)
    assert done.updated_at >= job.updated_at


async def test_job_finished_of_an_unknown_job_fails(store: JobStore) -> None:
    with pytest.raises(StoreError, match="no such job"):
        await store.job_finished("j-unknown", "failed")
    with pytest.raises(ValueError, match="'running'"):
        await store.job_finished(await _job(store), "running")


# Steps


async def test_step_round_trip_with_json_output(store: JobStore) -> None:
    job_id = await _job(store)
    before = time.time()
    await store.step_started(job_id, "research[1].summarize", "summarize", "agent", 1)
    await store.step_finished(
        job_id, "research[1].summarize", "succeeded", output=NESTED, tokens=12, cost_usd=0.25
    )
    await store.step_started(job_id, "check", "check", "tool", 1)
    await store.step_finished(job_id, "check", "succeeded", output=None)
    await store.step_started(job_id, "text", "text", "tool", 1)
    await store.step_finished(job_id, "text", "succeeded", output="plain ünïcode string")

    first, second, third = await store.steps(job_id)
    assert (first.job_id, first.key, first.step_id, first.kind) == (
        job_id,
        "research[1].summarize",
        "summarize",
        "agent",
    )
    assert (first.status, first.attempt, first.error) == ("succeeded", 1, None)
    assert first.output == NESTED
    assert (first.tokens, first.cost_usd, first.extra) == (12, 0.25, {})
    assert first.finished_at is not None
    assert before <= first.started_at <= first.finished_at <= time.time()
    assert (second.key, second.output) == ("check", None)
    assert third.output == "plain ünïcode string"
    job = await store.get_job(job_id)
    assert job is not None
    assert (job.tokens, job.cost_usd) == (12, 0.25)


async def test_a_started_step_is_running_until_it_finishes(store: JobStore) -> None:
    job_id = await _job(store)
    await store.step_started(job_id, "draft", "draft", "agent", 1)
    (step,) = await store.steps(job_id)
    assert (step.status, step.attempt, step.finished_at, step.output) == ("running", 1, None, None)


async def test_a_step_record_not_waited_for_commits_with_the_next_awaited_write(
    store: JobStore, store_db: StoreDB
) -> None:
    job_id = await _job(store, status="running", lease_owner="me")
    await store.step_started(job_id, "last", "last", "agent", 1)
    await store.step_finished(job_id, "last", "succeeded", output="done", tokens=3, wait=False)
    await store.job_finished(job_id, "succeeded", outputs={"r": "done"})
    # Another store on the same database sees both: they were committed.
    async with store_db.running() as other:
        (record,) = await other.steps(job_id)
        assert (record.status, record.output, record.tokens) == ("succeeded", "done", 3)
        job = await other.get_job(job_id)
    assert job is not None
    assert (job.status, job.tokens) == ("succeeded", 3)


async def test_attempts_replace_the_record_and_add_up_on_the_job(store: JobStore) -> None:
    job_id = await _job(store)
    await store.step_started(job_id, "a", "a", "agent", 1)
    await store.step_started(job_id, "b", "b", "tool", 1)
    await store.step_finished(job_id, "b", "failed", error="timeout", tokens=5, cost_usd=0.5)
    await store.step_started(job_id, "b", "b", "tool", 2)
    (_, b) = await store.steps(job_id)
    assert (b.status, b.attempt, b.error, b.output, b.finished_at) == (
        "running",
        2,
        None,
        None,
        None,
    )
    assert (b.tokens, b.cost_usd) == (0, 0.0)
    await store.step_finished(job_id, "b", "succeeded", output={"ok": True}, tokens=7, cost_usd=1)
    await store.step_finished(job_id, "a", "succeeded", output=1)
    steps = await store.steps(job_id)
    assert [s.key for s in steps] == ["a", "b"]  # the order they first started
    assert (steps[1].status, steps[1].attempt, steps[1].output) == ("succeeded", 2, {"ok": True})
    assert (steps[1].tokens, steps[1].cost_usd) == (7, 1.0)
    job = await store.get_job(job_id)
    assert job is not None
    assert (job.tokens, job.cost_usd) == (12, 1.5)  # every attempt is paid for


async def test_step_finished_without_a_start_record(store: JobStore) -> None:
    job_id = await _job(store)
    await store.step_finished(job_id, "checks.count", "skipped")
    (step,) = await store.steps(job_id)
    assert (step.key, step.step_id, step.status, step.attempt) == (
        "checks.count",
        "count",
        "skipped",
        1,
    )
    assert step.finished_at == step.started_at


async def test_step_finished_of_an_unknown_job_fails(store: JobStore) -> None:
    with pytest.raises(StoreError, match="no job 'j-unknown'"):
        await store.step_finished("j-unknown", "a", "succeeded")
    assert await store.steps("j-unknown") == []
    with pytest.raises(ValueError, match="'running'"):
        await store.step_finished(await _job(store), "a", "running")


async def test_unstorable_output_is_refused(store: JobStore) -> None:
    job_id = await _job(store)
    with pytest.raises(StoreError, match="cannot store the output of step 'a'.*set"):
        await store.step_finished(job_id, "a", "succeeded", output={1, 2})
    assert await store.steps(job_id) == []


async def test_steps_of_jobs_are_kept_apart(store: JobStore) -> None:
    one, two = await _job(store), await _job(store)
    await store.step_finished(one, "a", "succeeded", output=1)
    await store.step_finished(two, "a", "succeeded", output=2)
    assert [s.output for s in await store.steps(one)] == [1]
    assert [s.output for s in await store.steps(two)] == [2]


# Events


async def test_events_in_order_after_a_sequence_number(store: JobStore) -> None:
    one, two = await _job(store), await _job(store)
    before = time.time()
    for i in range(5):
        await store.add_event(one, "log", f"line {i}", {"i": i, "text": "ü"} if i % 2 else None)
        await store.add_event(two, "other", f"other {i}")
    events = await store.events(one)  # reads see the writes queued before them
    assert all(isinstance(event, EventRecord) for event in events)
    assert [(e.kind, e.message, e.data) for e in events] == [
        ("log", "line 0", None),
        ("log", "line 1", {"i": 1, "text": "ü"}),
        ("log", "line 2", None),
        ("log", "line 3", {"i": 3, "text": "ü"}),
        ("log", "line 4", None),
    ]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert all(before <= e.time <= time.time() for e in events)
    seq, _, kind, message, data = events[1]  # still a tuple
    assert (seq, kind, message, data) == (seqs[1], "log", "line 1", {"i": 1, "text": "ü"})
    assert await store.events(one, after=seqs[2]) == events[3:]
    assert await store.events(one, after=seqs[-1]) == []
    assert [e.message for e in await store.events(two)] == [f"other {i}" for i in range(5)]


# Claims and leases


async def test_claim_takes_queued_jobs_oldest_first(store: JobStore) -> None:
    ids = [await _job(store) for _ in range(3)]
    await _job(store, status="running", lease_owner="other", lease_seconds=60)
    claimed = [await store.claim_job("w1", 30) for _ in range(3)]
    assert [job.id if job else None for job in claimed] == ids
    first = claimed[0]
    assert first is not None
    assert (first.status, first.lease_owner) == ("running", "w1")
    assert first.lease_expires == pytest.approx(time.time() + 30, abs=5)
    assert await store.get_job(first.id) == first
    assert await store.claim_job("w1", 30) is None


async def test_claim_takes_a_job_whose_lease_expired(store: JobStore) -> None:
    live = await _job(store, status="running", lease_owner="alive", lease_seconds=60)
    dead = await _job(store, status="running", lease_owner="dead", lease_seconds=-1)
    await store.step_finished(dead, "a", "succeeded", output=1)
    taken = await store.claim_job("w2", 30)
    assert taken is not None
    assert (taken.id, taken.status, taken.lease_owner) == (dead, "running", "w2")
    assert await store.claim_job("w3", 30) is None  # the live lease is not taken
    job = await store.get_job(live)
    assert job is not None and job.lease_owner == "alive"
    assert [s.key for s in await store.steps(dead)] == ["a"]  # steps stay for resume


async def test_claim_prefers_the_oldest_of_queued_and_expired(store: JobStore) -> None:
    expired = await _job(store, status="running", lease_owner="dead", lease_seconds=-1)
    queued = await _job(store)
    first, second = await store.claim_job("w", 30), await store.claim_job("w", 30)
    assert [first and first.id, second and second.id] == [expired, queued]


async def test_concurrent_claims_never_share_a_job(store: JobStore) -> None:
    ids = {await _job(store) for _ in range(20)}
    claims = await asyncio.gather(*(store.claim_job(f"w{i}", 30) for i in range(30)))
    got = [job.id for job in claims if job is not None]
    assert sorted(got) == sorted(ids)


async def test_renew_lease_only_by_its_owner(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status="running", lease_owner="me", lease_seconds=5)
    assert job.lease == Lease("me", 1)
    assert await store.renew_lease(job.id, Lease("me", 1), 100) is True
    renewed = await store.get_job(job.id)
    assert renewed is not None and renewed.lease_expires is not None
    assert renewed.lease_expires == pytest.approx(time.time() + 100, abs=5)
    assert renewed.lease_epoch == 1  # a renewal keeps the epoch
    assert await store.renew_lease(job.id, Lease("thief", 1), 100) is False
    assert await store.renew_lease(job.id, Lease("me", 0), 100) is False
    assert await store.renew_lease("j-unknown", Lease("me", 1), 100) is False
    await store.job_finished(job.id, "succeeded")
    assert await store.renew_lease(job.id, Lease("me", 1), 100) is False


async def test_renew_fails_once_another_owner_claimed(store: JobStore) -> None:
    job_id = await _job(store, status="running", lease_owner="slow", lease_seconds=-1)
    claimed = await store.claim_job("fast", 30)
    assert claimed is not None and claimed.lease == Lease("fast", 2)
    assert await store.renew_lease(job_id, Lease("slow", 1), 30) is False
    assert await store.renew_lease(job_id, Lease("fast", 2), 30) is True


async def test_take_over(store: JobStore) -> None:
    running = await _job(store, status="running", lease_owner="other", lease_seconds=60)
    queued = await _job(store)
    done = await _job(store)
    await store.job_finished(done, "failed")
    taken = await store.take_over(running, "me", 30)
    assert taken is not None
    assert (taken.id, taken.status, taken.lease_owner) == (running, "running", "me")
    assert (taken.lease_epoch, taken.owners_lost) == (2, 1)
    assert await store.renew_lease(running, Lease("other", 1), 30) is False
    again = await store.take_over(queued, "me", 30)
    assert again is not None and again.status == "running"
    assert await store.take_over(done, "me", 30) is None
    assert await store.take_over("j-unknown", "me", 30) is None


async def test_every_take_starts_a_new_lease_epoch(store: JobStore) -> None:
    made = await store.create_job("wf", {}, [], status="running", lease_owner="a", lease_seconds=-1)
    assert made.lease == Lease("a", 1)
    queued = await store.create_job("wf", {}, [])
    assert (queued.lease, queued.lease_epoch, queued.owners_lost) == (None, 0, 0)
    claimed = await store.claim_job("b", -1)  # the expired one is older: taken from 'a'
    assert claimed is not None and claimed.id == made.id
    assert (claimed.lease, claimed.owners_lost) == (Lease("b", 2), 1)
    taken = await store.take_over(made.id, "c", 30)
    assert taken is not None and (taken.lease, taken.owners_lost) == (Lease("c", 3), 2)
    first = await store.claim_job("d", 30)  # a queued job has no owner to lose
    assert first is not None and first.id == queued.id
    assert (first.lease, first.owners_lost) == (Lease("d", 1), 0)
    assert await store.get_job(made.id) == taken


async def test_a_write_with_a_stale_lease_changes_nothing(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status="running", lease_owner="old")
    old = job.lease
    assert old is not None
    await store.step_started(job.id, "a", "a", "tool", 1, lease=old)
    await store.step_finished(job.id, "a", "succeeded", output=1, tokens=2, lease=old)
    taken = await store.take_over(job.id, "new", 30, expected=old)
    assert taken is not None and taken.lease == Lease("new", 2)
    new = taken.lease

    # The old owner's writes of every kind are refused, waited for or not.
    await store.step_started(job.id, "b", "b", "tool", 1, lease=old)
    await store.step_started(job.id, "a", "a", "tool", 2, lease=old)
    await store.add_event(job.id, "log", "from old", lease=old)
    await store.step_finished(job.id, "c", "succeeded", output=3, tokens=5, wait=False, lease=old)
    with pytest.raises(LeaseLost, match=f"^cannot record step 'b': job {job.id} is no longer"):
        await store.step_finished(job.id, "b", "succeeded", output=2, tokens=5, lease=old)
    with pytest.raises(LeaseLost, match="held by new \\(epoch 2\\)"):
        await store.job_finished(job.id, "failed", error="old", lease=old)
    assert await store.renew_lease(job.id, old, 30) is False
    assert await store.get_job(job.id) == taken
    (a,) = await store.steps(job.id)
    assert (a.key, a.status, a.attempt, a.output) == ("a", "succeeded", 1, 1)
    assert await store.events(job.id) == []

    # The new owner's go through, until its own end releases the lease.
    await store.add_event(job.id, "log", "from new", lease=new)
    await store.step_finished(job.id, "b", "succeeded", output=2, tokens=5, lease=new)
    await store.job_finished(job.id, "succeeded", outputs={"b": 2}, lease=new)
    with pytest.raises(LeaseLost):
        await store.job_finished(job.id, "failed", lease=new)  # a job ends once
    await store.add_event(job.id, "log", "after the end", lease=new)
    done = await store.get_job(job.id)
    assert done is not None
    assert (done.status, done.outputs, done.tokens, done.lease) == ("succeeded", {"b": 2}, 7, None)
    assert [e.message for e in await store.events(job.id)] == ["from new"]
    assert [(s.key, s.output) for s in await store.steps(job.id)] == [("a", 1), ("b", 2)]


async def test_stale_writes_batched_with_others_fail_alone(store: JobStore) -> None:
    stale = await store.create_job("wf", {}, [], status="running", lease_owner="x")
    live = await store.create_job("wf", {}, [], status="running", lease_owner="y")
    assert stale.lease is not None and live.lease is not None
    await store.take_over(stale.id, "z", 30)

    async def finish(i: int) -> None:
        job, lease = (stale, stale.lease) if i % 10 == 3 else (live, live.lease)
        await store.step_started(job.id, f"s{i}", "s", "tool", 1, lease=lease)
        await store.add_event(job.id, "log", f"s{i}", lease=lease)
        await store.step_finished(job.id, f"s{i}", "succeeded", tokens=1, lease=lease)

    results = await asyncio.gather(*(finish(i) for i in range(100)), return_exceptions=True)
    refused = [i for i, r in enumerate(results) if r is not None]
    assert refused == list(range(3, 100, 10))
    assert all(isinstance(results[i], LeaseLost) for i in refused)
    assert await store.steps(stale.id) == [] and await store.events(stale.id) == []
    assert len(await store.steps(live.id)) == 90 and len(await store.events(live.id)) == 90
    job = await store.get_job(live.id)
    assert job is not None and job.tokens == 90


async def test_take_over_compares_and_sets_the_lease_seen(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status="running", lease_owner="dead")
    seen = job.lease
    assert seen is not None
    first = await store.take_over(job.id, "r1", 30, expected=seen)
    second = await store.take_over(job.id, "r2", 30, expected=seen)
    assert first is not None and first.lease == Lease("r1", 2)
    assert second == first  # not taken: returned as it is, held by r1
    # An expired lease may be taken whatever was seen; without `expected`, any lease.
    expired = await store.create_job(
        "wf", {}, [], status="running", lease_owner="o", lease_seconds=-1
    )
    again = await store.take_over(expired.id, "r3", 30, expected=Lease("someone", 7))
    assert again is not None and again.lease == Lease("r3", 2)
    forced = await store.take_over(job.id, "r4", 30)
    assert forced is not None and forced.lease == Lease("r4", 3)
    queued = await store.create_job("wf", {}, [])
    taken = await store.take_over(queued.id, "r5", 30, expected=Lease("", 0))
    assert taken is not None and taken.lease == Lease("r5", 1)


async def test_concurrent_take_overs_from_two_stores_have_one_winner(store_db: StoreDB) -> None:
    async with store_db.running() as one, store_db.running() as two:
        jobs = [
            await one.create_job("wf", {}, [], status="running", lease_owner="dead")
            for _ in range(10)
        ]
        for job in jobs:
            assert job.lease is not None
            takes = await asyncio.gather(
                *(
                    store.take_over(job.id, f"r{i}", 30, expected=job.lease)
                    for i, store in enumerate([one, two] * 3)
                )
            )
            owners = {t.lease_owner for t in takes if t is not None}
            assert len(owners) == 1 and all(t is not None and t.lease_epoch == 2 for t in takes)


async def test_a_job_that_lost_its_owners_is_failed_as_poisoned(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status="running", lease_owner="o1", lease_seconds=-1)
    await store.step_started(job.id, "a", "a", "tool", 1)
    for owner in ("o2", "o3"):  # each claim takes it from a dead owner, and dies too
        claimed = await store.claim_job(owner, -1, poison_after=3)
        assert claimed is not None and claimed.lease_owner == owner
    queued = await _job(store)
    claimed = await store.claim_job("o4", 30, poison_after=3)  # o3 would be the third lost
    assert claimed is not None and claimed.id == queued  # the next job instead
    poisoned = await store.get_job(job.id)
    assert poisoned is not None
    error = (
        f"job {job.id} was abandoned by 3 owners (each died while running it); failed as poisoned"
    )
    assert (poisoned.status, poisoned.error, poisoned.lease, poisoned.owners_lost) == (
        "failed",
        error,
        None,
        3,
    )
    (step,) = await store.steps(job.id)
    assert (step.status, step.error) == ("failed", "interrupted: the job was failed as poisoned")
    assert [(e.kind, e.message) for e in await store.events(job.id)] == [
        ("job", f"failed: {error}")
    ]
    assert await store.claim_job("o5", 30) is None


async def test_take_over_fails_a_poisoned_job_instead(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status="running", lease_owner="o1")
    assert job.lease is not None
    taken = await store.take_over(job.id, "o2", 30, expected=job.lease, poison_after=2)
    assert taken is not None and (taken.lease_owner, taken.owners_lost) == ("o2", 1)
    assert taken.lease is not None
    again = await store.take_over(job.id, "o3", 30, expected=taken.lease, poison_after=2)
    assert again is not None
    assert (again.status, again.lease, again.owners_lost) == ("failed", None, 2)
    assert again.error is not None and "abandoned by 2 owners" in again.error
    assert await store.take_over(job.id, "o4", 30) is None  # it has ended
    with pytest.raises(ValueError, match="poison_after must be at least 1"):
        await store.claim_job("o5", 30, poison_after=0)


# Cancel


async def test_request_cancel(store: JobStore) -> None:
    queued = await _job(store)
    running = await _job(store, status="running", lease_owner="me")
    finished = await _job(store)
    await store.job_finished(finished, "succeeded")

    assert await store.request_cancel(queued) is True
    job = await store.get_job(queued)
    assert job is not None and job.status == "cancelled"
    assert await store.claim_job("w", 30) is None  # a cancelled job is never claimed

    assert await store.request_cancel(running) is True
    job = await store.get_job(running)
    assert job is not None and (job.status, job.cancel_requested) == ("running", True)
    assert await store.request_cancel(running) is True  # asking twice is fine

    assert await store.request_cancel(finished) is False
    assert await store.request_cancel(queued) is False  # it has ended now
    assert await store.request_cancel("j-unknown") is False
    job = await store.get_job(finished)
    assert job is not None and (job.status, job.cancel_requested) == ("succeeded", False)


async def test_cancelled_ids(store: JobStore) -> None:
    ids = [await _job(store, status="running", lease_owner="me") for _ in range(4)]
    await store.request_cancel(ids[1])
    await store.request_cancel(ids[3])
    assert await store.cancelled_ids(ids + ["j-unknown"]) == {ids[1], ids[3]}
    assert await store.cancelled_ids([ids[0]]) == set()
    assert await store.cancelled_ids([]) == set()


# Life cycle and durability


async def test_migrations_are_recorded_once(store_db: StoreDB) -> None:
    async with store_db.running():
        pass
    applied = store_db.migrations()
    assert [name for name, _ in applied] == [
        "0001_jobs",
        "0002_steps",
        "0003_events",
        "0004_calls",
        "0005_job_principal",
        "0006_lease_epoch",
        "0007_trace",
        "0008_teams",
        "0009_jobs_by_principal",
    ]
    assert all(at for _, at in applied)
    async with store_db.running():
        pass
    assert store_db.migrations() == applied


async def test_open_store_reaches_the_database_by_its_url(
    store: JobStore, store_db: StoreDB
) -> None:
    job_id = await _job(store)
    other = open_store(store_db.url)
    await other.start()
    try:
        assert await other.get_job(job_id) == await store.get_job(job_id)
    finally:
        await other.close()


async def test_data_survives_close_and_reopen(store_db: StoreDB) -> None:
    async with store_db.running() as store:
        job_id = await _job(store, status="running", lease_owner="me")
        await store.step_started(job_id, "a", "a", "agent", 3)
        await store.step_finished(job_id, "a", "succeeded", output=NESTED, tokens=4)
        await store.add_event(job_id, "log", "last words")  # not awaited: close() flushes it
        job = await store.get_job(job_id)
    async with store_db.running() as store:
        assert await store.get_job(job_id) == job
        (step,) = await store.steps(job_id)
        assert (step.attempt, step.output, step.tokens) == (3, NESTED, 4)
        assert [e.message for e in await store.events(job_id)] == ["last words"]


def _calls(job_id: str) -> dict[str, Callable[[JobStore], Awaitable[Any]]]:
    return {
        "create_job": lambda s: s.create_job("wf", {}, []),
        "step_started": lambda s: s.step_started(job_id, "a", "a", "agent", 1),
        "step_finished": lambda s: s.step_finished(job_id, "a", "succeeded"),
        "job_finished": lambda s: s.job_finished(job_id, "succeeded"),
        "add_event": lambda s: s.add_event(job_id, "log", "x"),
        "get_job": lambda s: s.get_job(job_id),
        "list_jobs": lambda s: s.list_jobs(),
        "steps": lambda s: s.steps(job_id),
        "events": lambda s: s.events(job_id),
        "claim_job": lambda s: s.claim_job("w", 30),
        "renew_lease": lambda s: s.renew_lease(job_id, Lease("w", 1), 30),
        "take_over": lambda s: s.take_over(job_id, "w", 30),
        "cancelled_ids": lambda s: s.cancelled_ids([job_id]),
        "request_cancel": lambda s: s.request_cancel(job_id),
        "start": lambda s: s.start(),
    }


async def test_use_after_close_raises(store_db: StoreDB) -> None:
    store = store_db.make()
    await store.start()
    job_id = await _job(store)
    await store.close()
    await store.close()  # closing twice is harmless
    for call in _calls(job_id).values():
        with pytest.raises(StoreError, match=r"^store is closed$"):
            await call(store)


async def test_use_before_start_raises(store_db: StoreDB) -> None:
    store = store_db.make()
    for name, call in _calls("j-x").items():
        if name != "start":
            with pytest.raises(StoreError, match=r"^store is not started$"):
                await call(store)
    await store.close()


async def test_two_stores_on_one_database_never_claim_the_same_job(store_db: StoreDB) -> None:
    async with store_db.running() as one, store_db.running() as two:
        ids = {await _job(one) for _ in range(20)}
        claims = await asyncio.gather(
            *(store.claim_job(f"w{i}", 30) for i, store in enumerate([one, two] * 15))
        )
        got = [job.id for job in claims if job is not None]
        assert sorted(got) == sorted(ids)
        await two.step_finished(got[0], "a", "succeeded", output="from two")
        assert [s.output for s in await one.steps(got[0])] == ["from two"]


async def test_many_concurrent_step_finished_all_commit(store: JobStore) -> None:
    jobs = [await _job(store) for _ in range(4)]

    async def finish(i: int) -> int:
        job_id = jobs[i % 4]
        await store.step_started(job_id, f"s{i}", "s", "agent", 1)
        await store.step_finished(job_id, f"s{i}", "succeeded", output={"i": i}, tokens=1)
        return i

    assert await asyncio.gather(*(finish(i) for i in range(2000))) == list(range(2000))
    for n, job_id in enumerate(jobs):
        steps = await store.steps(job_id)
        assert sorted(s.output["i"] for s in steps) == list(range(n, 2000, 4))
        assert {(s.status, s.attempt) for s in steps} == {("succeeded", 1)}
        job = await store.get_job(job_id)
        assert job is not None and job.tokens == 500


async def test_a_failing_write_fails_alone(store: JobStore) -> None:
    job_id = await _job(store)

    async def finish(i: int) -> None:
        target = "j-missing" if i == 50 else job_id
        await store.step_finished(target, f"s{i}", "succeeded", tokens=1)

    results = await asyncio.gather(*(finish(i) for i in range(100)), return_exceptions=True)
    errors = {i: r for i, r in enumerate(results) if r is not None}
    assert list(errors) == [50]
    assert isinstance(errors[50], StoreError)
    assert len(await store.steps(job_id)) == 99
    job = await store.get_job(job_id)
    assert job is not None and job.tokens == 99


async def test_a_cancelled_caller_does_not_break_the_writer(store: JobStore) -> None:
    job_id = await _job(store)
    tasks = [
        asyncio.ensure_future(store.step_finished(job_id, f"s{i}", "succeeded")) for i in range(200)
    ]
    await asyncio.sleep(0)
    for task in tasks[::2]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # A cancelled await does not withdraw its write: every record is there.
    assert len(await store.steps(job_id)) == 200


def _committed(path: Path) -> tuple[list[str], list[str], list[str]]:
    """The job ids, finished job ids and step keys a child printed on complete lines."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")[:-1]  # the last piece has no newline yet: not committed
    found: dict[str, list[str]] = {"job": [], "done": [], "step": []}
    for line in lines:
        kind, _, value = line.partition(" ")
        found[kind].append(value)
    return found["job"], found["done"], found["step"]


async def _check_committed(
    store_db: StoreDB, jobs: list[str], done: list[str], steps: list[str], where: str
) -> None:
    async with store_db.running() as store:
        for job_id in jobs:
            assert await store.get_job(job_id) is not None, f"{where}: job {job_id} lost"
        for job_id in done:
            job = await store.get_job(job_id)
            assert job is not None and job.status == "succeeded", f"{where}: end of {job_id} lost"
        keys: dict[str, Any] = {}
        events: set[str] = set()
        for job_id in {key.split("/")[0] for key in steps}:
            keys.update({s.key: s for s in await store.steps(job_id)})
            events.update(e.message for e in await store.events(job_id))
        for key in steps:
            step = keys.get(key)
            assert step is not None, f"{where}: committed step {key} lost"
            assert (step.status, step.attempt) == ("succeeded", 2), f"{where}: {key}: {step}"
            assert step.output["key"] == key
            # Written without waiting, but queued before the step's awaited result.
            assert key in events, f"{where}: event queued before {key} lost"


@pytest.mark.timeout(300)
def test_committed_writes_survive_sigkill(store_db: StoreDB, tmp_path: Path) -> None:
    seed = int(os.environ.get("AGENTGO_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    total = 0
    for round_ in range(8):
        sync = ("normal", "full")[round_ % 2]
        delay = rng.uniform(0.0, 0.3)
        where = f"seed {seed}, kill {round_} ({sync}) {delay:.3f}s after the first commit"
        out = tmp_path / f"child{round_}.out"
        err = tmp_path / f"child{round_}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, str(CHILD), store_db.url, f"r{round_}", sync],
                stdout=stdout,
                stderr=stderr,
                env=env,
            )
            try:
                deadline = time.monotonic() + 30
                while not out.read_bytes() and child.poll() is None:
                    assert time.monotonic() < deadline, f"{where}: the child never started"
                    time.sleep(0.005)
                time.sleep(delay)
                os.kill(child.pid, signal.SIGKILL)
            finally:
                child.kill()
                child.wait()
        assert child.returncode == -signal.SIGKILL, f"{where}: {err.read_text()}"
        jobs, done, steps = _committed(out)
        assert store_db.integrity() == "ok", where
        asyncio.run(_check_committed(store_db, jobs, done, steps, where))
        total += len(steps)
    assert total > 0
