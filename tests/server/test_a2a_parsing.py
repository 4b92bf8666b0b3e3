"""What the A2A routes parse from a client and show it: ListTasks page tokens, a message's
input, a job as a Task. Property-based: any token is a position or InvalidParams, never a
crash; any JSON value or text a client sends comes out as the value the skill is called
with; any job is the Task of its status, with at most the history asked for."""

from __future__ import annotations

from typing import Any

import pytest
from a2a.helpers.proto_helpers import get_data_parts, new_data_part, new_text_part
from a2a.types.a2a_pb2 import Message, Part
from a2a.utils.errors import ContentTypeNotSupportedError, InvalidParamsError
from hypothesis import given
from hypothesis import strategies as st

from agentgo_cli.server.a2a_convert import message_input
from agentgo_cli.server.a2a_tasks import _cursor, _token

_SAFE = 2**53
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-_SAFE + 1, _SAFE - 1)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.floats(allow_nan=False, allow_infinity=False), st.text())
def test_a_page_token_names_the_position_it_was_made_from(updated: float, job_id: str) -> None:
    assert _cursor(_token((updated, job_id))) == (updated, job_id)


@given(st.text())
def test_any_page_token_is_a_position_or_invalid_params(token: str) -> None:
    try:
        updated, job_id = _cursor(token)
    except InvalidParamsError as exc:
        assert "is not one this server made" in exc.message
    else:
        assert isinstance(updated, float) and isinstance(job_id, str)


@pytest.mark.parametrize("token", ["", "e30", "WzEsMl0", "bnVsbA", "WyJhIiwiYiJd", "!!!"])
def test_tokens_we_did_not_make_are_invalid_params(token: str) -> None:
    with pytest.raises(InvalidParamsError):
        _cursor(token or "=")


def _same(a: Any, b: Any) -> bool:
    """JSON equality, numbers by value (a double that is whole comes back an integer)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@given(json_values)
def test_a_data_part_is_the_value_called_with(value: Any) -> None:
    message = Message(message_id="m", parts=[new_text_part("ignored"), new_data_part(value)])

    got, kind = message_input(message, {"type": "object"})

    assert kind == "data"
    assert _same(got, value)
    if isinstance(value, int) and not isinstance(value, bool):
        assert isinstance(got, int)  # 3 is 3 again, not 3.0


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_text_parts_are_one_text_for_a_text_skill(texts: list[str]) -> None:
    message = Message(message_id="m", parts=[new_text_part(t) for t in texts])

    assert message_input(message, {"type": "string"}) == ("\n".join(texts), "text")


@given(json_values)
def test_text_holding_json_is_parsed_for_a_skill_that_takes_data(value: Any) -> None:
    import json

    message = Message(message_id="m", parts=[new_text_part(json.dumps(value))])

    got, kind = message_input(message, {"type": "object"})

    assert kind == "text" and _same(got, value)


def test_a_message_without_text_or_data_is_refused() -> None:
    with pytest.raises(InvalidParamsError, match="no parts"):
        message_input(Message(message_id="m"), None)
    files = Message(message_id="m", parts=[Part(url="file:///x.txt", media_type="text/plain")])
    with pytest.raises(ContentTypeNotSupportedError, match="not files"):
        message_input(files, None)


jobs = st.builds(
    lambda status, output, error, kind, history: (
        {
            "job_id": "j-1",
            "workflow": "a2a:greet.hello@1.0.0",
            "status": status,
            "created_at": 1.0,
            "updated_at": 2.5,
            "duration_s": 1.5,
            "inputs": {"input": "Ada", "input_kind": kind, "message_id": "m-1", "context_id": "c"},
            "outputs": {"output": output} if status == "succeeded" else None,
            "error": error if status in ("failed", "cancelled") else None,
        },
        history,
    ),
    st.sampled_from(["queued", "running", "succeeded", "failed", "cancelled"]),
    json_values,
    st.text(min_size=1),
    st.sampled_from(["data", "text"]),
    st.none() | st.integers(0, 5),
)


@given(jobs)
def test_a_job_is_the_task_of_its_status(case: tuple[dict[str, Any], int | None]) -> None:
    from a2a.types.a2a_pb2 import TaskState

    from agentgo_cli.backend.views import JobView
    from agentgo_cli.server.a2a_convert import task_of

    fields, history = case
    job = JobView(**fields)

    task = task_of(job, history_length=history)

    state = {
        "queued": "TASK_STATE_SUBMITTED",
        "running": "TASK_STATE_WORKING",
        "succeeded": "TASK_STATE_COMPLETED",
        "failed": "TASK_STATE_FAILED",
        "cancelled": "TASK_STATE_CANCELED",
    }[job.status]
    assert (task.id, task.context_id, TaskState.Name(task.status.state)) == ("j-1", "c", state)
    assert task.status.timestamp.ToNanoseconds() == 2_500_000_000
    ended = job.status in ("succeeded", "failed", "cancelled")
    assert task.status.HasField("message") == ended
    assert len(task.artifacts) == (job.status == "succeeded")
    if job.status == "succeeded":
        (artifact,) = task.artifacts
        assert _same(get_data_parts(artifact.parts)[0], fields["outputs"]["output"])
    if job.status == "failed":
        assert task.status.message.parts[0].text == job.error
    full = 1 + ended
    assert len(task.history) == (full if history is None else min(history, full))
    if len(task.history) == full:  # all of it: the user's message first
        assert task.history[0].message_id == "m-1"
