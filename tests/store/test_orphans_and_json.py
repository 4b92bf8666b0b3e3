"""Store contract: only standard JSON is stored (nothing is half-written otherwise), and a
running job that no live process owns can be cancelled at once."""

from __future__ import annotations

import pytest

from agentgo_cli.errors import ValueNotStorable
from agentgo_cli.store.base import JobStore


async def test_an_input_that_is_not_standard_json_creates_no_job(store: JobStore) -> None:
    with pytest.raises(ValueNotStorable, match=r"^cannot store the inputs of a wf job as JSON: "):
        await store.create_job("wf", {"n": float("nan")}, [])
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueNotStorable, match="it is nested too deeply$"):
        await store.create_job("wf", {"n": deep}, [])
    assert await store.list_jobs() == []


async def test_an_event_keeps_its_line_when_its_data_cannot_be_stored(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [])
    await store.add_event(job.id, "call", "a call", {"output": float("inf")})
    await store.add_event(job.id, "job", "flush")
    call, _ = await store.events(job.id)
    assert (call.kind, call.message) == ("call", "a call")
    assert call.data == {
        "unstorable": "cannot store the data of a call event as JSON: "
        "Out of range float values are not JSON compliant"
    }


async def test_cancel_orphan_ends_only_a_running_job_nobody_holds(store: JobStore) -> None:
    expired = await store.create_job(
        "wf", {}, [], status="running", lease_owner="a", lease_seconds=-1
    )
    live = await store.create_job("wf", {}, [], status="running", lease_owner="b", lease_seconds=60)
    queued = await store.create_job("wf", {}, [])
    assert await store.cancel_orphan(expired.id, "someone else")  # expired: whoever held it
    assert not await store.cancel_orphan(live.id, "not b")  # b holds it, and may be alive
    assert not await store.cancel_orphan(queued.id, None)  # request_cancel handles it
    assert await store.cancel_orphan(live.id, "b")  # the caller found b dead
    assert not await store.cancel_orphan(live.id, "b")  # ended already
    for job_id in (expired.id, live.id):
        job = await store.get_job(job_id)
        assert job is not None
        assert (job.status, job.error, job.lease_owner) == (
            "cancelled",
            "cancelled on request (no live process was running it)",
            None,
        )
    still = await store.get_job(queued.id)
    assert still is not None and still.status == "queued"
