"""A job's trace in the store: a per-job sequence, fenced by the job's lease, kept across
the stores (processes) that run the job in turn."""

from __future__ import annotations

from agentgo_cli.store import JobStore, Lease
from agentgo_cli.store.base import JobStatus, TraceEntry
from tests.conftest import StoreDB


def _entry(name: str, data: str | None = None) -> TraceEntry:
    return TraceEntry(1.5, "tool", "step", None, None, None, name, "ok", 0.25, 0, 0.0, data)


async def _running(store: JobStore, owner: str = "me") -> tuple[str, Lease]:
    job = await store.create_job("wf", {}, [], status=JobStatus.RUNNING, lease_owner=owner)
    assert job.lease is not None
    return job.id, job.lease


async def test_each_job_numbers_its_nodes_from_one_in_one_batch_or_many(store: JobStore) -> None:
    (a, lease_a), (b, lease_b) = await _running(store), await _running(store)
    for i in range(3):  # queued together: one batch, several rows per job
        store.add_trace(a, _entry(f"a{i}", '{"n": 1}'), lease=lease_a)
        store.add_trace(b, _entry(f"b{i}"), lease=lease_b)
    await store.get_job(a)  # a read waits for what was queued
    store.add_trace(a, _entry("a3"), lease=lease_a)  # alone in its batch

    got_a, got_b = await store.trace(a), await store.trace(b)

    assert [(r.seq, r.name) for r in got_a] == [(1, "a0"), (2, "a1"), (3, "a2"), (4, "a3")]
    assert [(r.seq, r.name) for r in got_b] == [(1, "b0"), (2, "b1"), (3, "b2")]
    first = got_a[0]
    assert (first.time, first.kind, first.key, first.status, first.seconds) == (
        1.5,
        "tool",
        "step",
        "ok",
        0.25,
    )
    assert first.data == {"n": 1} and got_b[0].data is None


async def test_a_lease_that_no_longer_holds_the_job_records_nothing(store: JobStore) -> None:
    job_id, lease = await _running(store)
    taken = await store.take_over(job_id, "other", 30.0)
    assert taken is not None and taken.lease is not None
    store.add_trace(job_id, _entry("stale-alone"), lease=lease)
    await store.get_job(job_id)
    store.add_trace(job_id, _entry("stale"), lease=lease)
    store.add_trace(job_id, _entry("ours"), lease=taken.lease)
    store.add_trace(job_id, _entry("stale-again"), lease=lease)

    assert [(r.seq, r.name) for r in await store.trace(job_id)] == [(1, "ours")]


async def test_the_sequence_goes_on_in_the_next_store_that_runs_the_job(
    store_db: StoreDB,
) -> None:
    async with store_db.running() as first:
        job_id, lease = await _running(first, "one")
        first.add_trace(job_id, _entry("before"), lease=lease)
        first.add_trace(job_id, _entry("crash"), lease=lease)
    async with store_db.running() as second:
        taken = await second.take_over(job_id, "two", 30.0)
        assert taken is not None
        second.add_trace(job_id, _entry("after"), lease=taken.lease)
        second.add_trace(job_id, _entry("end"), lease=taken.lease)
        got = await second.trace(job_id)

    assert [(r.seq, r.name) for r in got] == [(1, "before"), (2, "crash"), (3, "after"), (4, "end")]


async def test_a_job_with_no_trace_has_none(store: JobStore) -> None:
    job_id, _ = await _running(store)
    assert await store.trace(job_id) == []
    assert await store.trace("j-nope") == []
