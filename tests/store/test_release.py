"""Store contract: a holder gives a running job up (``release``), fenced by its lease, so
that the next claim or resume takes it at once and no owner counts as lost."""

from __future__ import annotations

from agentgo_cli.store.base import JobStore, Lease


async def test_release_queues_the_job_again_and_the_next_claim_takes_it(store: JobStore) -> None:
    job = await store.create_job("wf", {}, ["m"], status="running", lease_owner="a")
    await store.step_started(job.id, "first", "first", "tool", 1, lease=job.lease)
    await store.step_finished(job.id, "first", "succeeded", output=1, lease=job.lease)
    await store.step_started(job.id, "slow", "slow", "tool", 1, lease=job.lease)
    assert job.lease == Lease("a", 1)

    assert await store.release(job.id, Lease("a", 1), "interrupted by the user")
    released = await store.get_job(job.id)
    assert released is not None
    assert (released.status, released.lease_owner, released.lease_expires) == (
        "queued",
        None,
        None,
    )
    assert [(e.kind, e.message) for e in await store.events(job.id)] == [
        ("job", "interrupted by the user")
    ]
    # The finished step stays finished; the one in flight is left for the next taker.
    assert [(s.key, s.status) for s in await store.steps(job.id)] == [
        ("first", "succeeded"),
        ("slow", "running"),
    ]
    # The old lease writes nothing any more.
    await store.add_event(job.id, "job", "late", lease=Lease("a", 1))
    assert not await store.renew_lease(job.id, Lease("a", 1), 30)

    claimed = await store.claim_job("b", 30)
    assert claimed is not None
    assert (claimed.id, claimed.status, claimed.lease_owner) == (job.id, "running", "b")
    assert (claimed.lease_epoch, claimed.owners_lost) == (2, 0)


async def test_release_is_fenced_by_the_lease_epoch(store: JobStore) -> None:
    job = await store.create_job("wf", {}, ["m"], status="running", lease_owner="a")
    taken = await store.take_over(job.id, "b", 30)
    assert taken is not None and taken.lease == Lease("b", 2)
    assert not await store.release(job.id, Lease("a", 1), "interrupted by the user")
    still = await store.get_job(job.id)
    assert still is not None and (still.status, still.lease) == ("running", Lease("b", 2))
    assert await store.events(job.id) == []


async def test_a_released_job_is_resumed_without_waiting_for_a_lease(store: JobStore) -> None:
    job = await store.create_job("wf", {}, ["m"], status="running", lease_owner="a")
    assert await store.release(job.id, Lease("a", 1), "interrupted by the user")
    # A resume's compare-and-set on the holder it saw (nobody) takes it.
    taken = await store.take_over(job.id, "c", 30, expected=Lease("", 1))
    assert taken is not None
    assert (taken.status, taken.lease, taken.owners_lost) == ("running", Lease("c", 2), 0)


async def test_release_of_an_ended_job_changes_nothing(store: JobStore) -> None:
    job = await store.create_job("wf", {}, ["m"], status="running", lease_owner="a")
    await store.job_finished(job.id, "succeeded", outputs={}, lease=Lease("a", 1))
    assert not await store.release(job.id, Lease("a", 1), "interrupted by the user")
    done = await store.get_job(job.id)
    assert done is not None and done.status == "succeeded"
