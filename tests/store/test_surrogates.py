"""A lone surrogate (as a JSON reply's "\\ud800" decodes to) in anything a job writes: JSON
values are stored escaped and read back exactly; plain text columns (a step's, a job's
error, an event's message, a trace node's names) keep the text with U+FFFD in its place.
Never a write that fails in the writer (and a job that waits for it forever)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentgo_cli.errors import ValueNotStorable
from agentgo_cli.store import JobStore
from agentgo_cli.store.base import JobStatus, TraceEntry, encode_json, storable_text, to_json

LONE = "x\ud800y\udfff"
VALUE = {"text": LONE, LONE: [LONE, "é", "日本", "\U0001f600"]}
SHOWN = "x\ufffdy\ufffd"


async def test_json_values_with_a_lone_surrogate_round_trip(store: JobStore) -> None:
    job = await store.create_job("wf", {"i": VALUE}, [], status=JobStatus.RUNNING, lease_owner="me")
    lease = job.lease
    await store.step_started(job.id, "a", "a", "tool", 1, lease=lease)
    # Not waited for, as a job's last step is: then committed with the job's end.
    await store.step_finished(
        job.id, "a", "succeeded", output=VALUE, extra={"note": LONE}, wait=False, lease=lease
    )
    await store.add_event(job.id, "job", "a line", {"data": LONE}, lease=lease)
    await store.job_finished(job.id, "succeeded", outputs={"out": VALUE}, lease=lease)

    got = await store.get_job(job.id)
    assert got is not None
    assert (got.status, got.inputs, got.outputs) == ("succeeded", {"i": VALUE}, {"out": VALUE})
    (step,) = await store.steps(job.id)
    assert (step.status, step.output, step.extra) == ("succeeded", VALUE, {"note": LONE})
    events = await store.events(job.id)
    assert [e.data for e in events] == [{"data": LONE}]


async def test_text_columns_keep_the_text_with_a_replacement_character(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status=JobStatus.RUNNING, lease_owner="me")
    lease = job.lease
    await store.step_started(job.id, "a", "a", "tool", 1, lease=lease)
    await store.step_finished(job.id, "a", "failed", error=f"boom {LONE}", wait=False, lease=lease)
    await store.add_event(job.id, "job", f"said {LONE}", lease=lease)
    await store.job_finished(job.id, "failed", error=f"failed: {LONE}", lease=lease)

    got = await store.get_job(job.id)
    assert got is not None and (got.status, got.error) == ("failed", f"failed: {SHOWN}")
    (step,) = await store.steps(job.id)
    assert (step.status, step.error) == ("failed", f"boom {SHOWN}")
    events = await store.events(job.id)
    assert [e.message for e in events] == [f"said {SHOWN}"]


async def test_a_trace_node_with_a_lone_surrogate_is_recorded(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status=JobStatus.RUNNING, lease_owner="me")
    data = encode_json({"result": LONE})
    entry = TraceEntry(
        1.5, "tool", f"k{LONE}", None, None, None, f"t{LONE}", "ok", 0.1, 0, 0.0, data
    )
    store.add_trace(job.id, entry, lease=job.lease)
    (node,) = await store.trace(job.id)
    assert (node.key, node.name, node.data) == (f"k{SHOWN}", f"t{SHOWN}", {"result": LONE})


async def test_team_values_with_a_lone_surrogate_round_trip(store: JobStore) -> None:
    await store.todo_add("list", [VALUE])
    todo = await store.todo_claim("list", "w", 30.0)
    assert todo is not None and todo.task == VALUE and todo.token is not None
    await store.todo_complete("list", todo.seq, todo.token, {"r": LONE})
    (done,) = await store.todos("list")
    assert done.result == {"r": LONE}
    await store.board_put("b", "k", VALUE, 0)
    entry = await store.board_get("b", "k")
    assert entry is not None and entry.value == VALUE


def test_json_text_is_utf8_and_ascii_escapes_only_when_it_must() -> None:
    assert encode_json({"a": "é日"}) == '{"a": "é日"}'  # the fast, unescaped form
    text = encode_json(VALUE)
    text.encode("utf-8")  # storable
    assert json.loads(text) == VALUE
    assert to_json([LONE]) == '["x\\ud800y\\udfff"]'
    assert storable_text(None) is None
    assert storable_text("plain é") == "plain é"
    assert storable_text("\ud83d\ude00") == "\ufffd\ufffd"  # a pair made of two code points


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.text() | st.none() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_any_text_in_a_value_round_trips_as_utf8_json(value: object) -> None:
    text = encode_json(value)
    text.encode("utf-8")
    assert json.loads(text) == value


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_becomes_storable_text(text: str) -> None:
    cleaned = storable_text(text)
    assert cleaned is not None and len(cleaned) == len(text)
    cleaned.encode("utf-8")
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert cleaned == text


async def test_a_text_that_cannot_be_stored_fails_only_its_own_write(store: JobStore) -> None:
    job = await store.create_job("wf", {}, [], status=JobStatus.RUNNING, lease_owner="me")
    await store.add_event(job.id, "job", "before", lease=job.lease)  # queued, not waited for
    with pytest.raises(ValueNotStorable, match=r"cannot store text that is not valid Unicode"):
        await store.create_job("wf", {}, [], principal="user:\udcff")  # a raw text column
    await store.add_event(job.id, "job", "after", lease=job.lease)
    assert [e.message for e in await store.events(job.id)] == ["before", "after"]
    assert [j.id for j in await store.list_jobs()] == [job.id]
