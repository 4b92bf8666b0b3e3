"""The details a step kind records beyond its output (``StepRecord.extra``): a loop's
``exhausted``, a foreach's item ``errors``. Contract tests, run on every store dialect."""

from __future__ import annotations

import pytest

from agentgo_cli.errors import ValueNotStorable
from agentgo_cli.store import JobStore


async def test_step_details_round_trip_and_a_new_attempt_clears_them(store: JobStore) -> None:
    job = await store.create_job("wf", {}, ["/m/a.yaml"])
    errors = [{"index": 1, "step": "each[1].x", "error": "no"}]
    await store.step_started(job.id, "each", "each", "foreach", 1)
    await store.step_finished(
        job.id, "each", "succeeded", output=[1, None], extra={"errors": errors}
    )
    await store.step_started(job.id, "spin", "spin", "loop", 1)
    await store.step_finished(job.id, "spin", "failed", error="x", extra={"exhausted": True})
    await store.step_started(job.id, "plain", "plain", "tool", 1)
    await store.step_finished(job.id, "plain", "succeeded", output=1)
    by_key = {s.key: s.extra for s in await store.steps(job.id)}
    assert by_key == {"each": {"errors": errors}, "spin": {"exhausted": True}, "plain": {}}
    # A step that runs again (a retry after a crash) starts with no details.
    await store.step_started(job.id, "spin", "spin", "loop", 2)
    assert {s.key: s.extra for s in await store.steps(job.id)}["spin"] == {}


async def test_step_details_that_are_not_json_record_nothing(store: JobStore) -> None:
    job = await store.create_job("wf", {}, ["/m/a.yaml"])
    await store.step_started(job.id, "spin", "spin", "loop", 1)
    with pytest.raises(ValueNotStorable, match="the details of step 'spin'"):
        await store.step_finished(job.id, "spin", "succeeded", extra={"x": float("nan")})
    [record] = await store.steps(job.id)
    assert record.status == "running"
