"""Jobs as A2A 1.0 Tasks, and A2A messages as call inputs: the translation table at the edge.

A job of a synthetic ``a2a:<intent>@<version>`` workflow (a2a/task_workflow.py) is shown as
a Task: the job id is the task id; queued → submitted, running → working, succeeded →
completed, failed → failed, cancelled → canceled. Its history is the user's message (rebuilt
from the job's inputs) and, once it ended, the agent's answer, which is also the status
message: the output (a text part for text, else a data part), or the error as text. A
succeeded job's output is the Task's one artifact, ``output``: a data part holding the
value, and a text part too when the value is text. An ended task's metadata says what it
spent: ``usage`` ``{tokens, costUsd}`` (camelCase, as A2A's JSON is).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from a2a.helpers.proto_helpers import get_data_parts, new_data_part
from a2a.types.a2a_pb2 import (
    Artifact,
    Message,
    Part,
    Role,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)
from a2a.utils.errors import ContentTypeNotSupportedError, InvalidParamsError

from agentgo_cli.a2a.task_workflow import intent_of

if TYPE_CHECKING:
    from agentgo_cli.backend import views as v

__all__ = [
    "ARTIFACT_ID",
    "STATES",
    "TERMINAL",
    "artifact_event",
    "message_input",
    "status_event",
    "task_of",
    "working_event",
]

STATES: dict[str, TaskState] = {
    "queued": TaskState.TASK_STATE_SUBMITTED,
    "running": TaskState.TASK_STATE_WORKING,
    "succeeded": TaskState.TASK_STATE_COMPLETED,
    "failed": TaskState.TASK_STATE_FAILED,
    "cancelled": TaskState.TASK_STATE_CANCELED,
}
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
"""Job statuses whose task is in a terminal state."""
ARTIFACT_ID = "output"
_JSON = "application/json"
_TEXT = "text/plain"


def message_input(message: Message, schema: dict[str, Any] | None) -> tuple[Any, str]:
    """The value a message calls its skill with, and how it came (``data`` or ``text``):
    the first data part's value; else the text of its text parts, one per line (parsed
    as JSON when the skill's input schema asks for something other than a string and the
    text is JSON). InvalidParamsError without either; ContentTypeNotSupportedError for a
    message of files only."""
    data = get_data_parts(message.parts)
    if data:
        return _whole(data[0]), "data"
    texts = [part.text for part in message.parts if part.HasField("text")]
    if texts:
        text = "\n".join(texts)
        wants = schema.get("type") if isinstance(schema, dict) else None
        if wants is not None and wants != "string":
            try:
                return json.loads(text), "text"
            except ValueError:
                pass
        return text, "text"
    if len(message.parts) > 0:
        raise ContentTypeNotSupportedError(
            message="this agent takes text and data parts (text/plain, application/json), not files"
        )
    raise InvalidParamsError(message="the message has no parts: send a text or data part")


def task_of(job: v.JobView, *, history_length: int | None = None, artifacts: bool = True) -> Task:
    """The Task a job of an A2A task workflow is (see the module docstring)."""
    inputs = job.inputs
    context_id = str(inputs.get("context_id") or job.job_id)
    task = Task(id=job.job_id, context_id=context_id, status=_status(job, context_id))
    ref = intent_of(job.workflow) or ""
    skill, _, version = ref.partition("@")
    task.metadata.update({"skill": skill, "version": version, "workflow": job.workflow})
    if job.status in TERMINAL:  # what it spent, for a caller that adds up its costs
        task.metadata.update({"usage": {"tokens": job.tokens, "costUsd": job.cost_usd}})
    history = [_user_message(job, context_id)]
    if task.status.HasField("message"):
        history.append(task.status.message)
    if history_length is not None:
        history = history[max(0, len(history) - history_length) :] if history_length else []
    task.history.extend(history)
    if artifacts and job.status == "succeeded":
        task.artifacts.append(_artifact(job))
    return task


def status_event(job: v.JobView) -> TaskStatusUpdateEvent:
    """The status update a job's current status is."""
    context_id = str(job.inputs.get("context_id") or job.job_id)
    return TaskStatusUpdateEvent(
        task_id=job.job_id, context_id=context_id, status=_status(job, context_id)
    )


def working_event(job: v.JobView, at: float) -> TaskStatusUpdateEvent:
    """The update a job's first step makes: working, at ``at`` (whatever it is by now, so
    that every stream of the task tells the same events)."""
    context_id = str(job.inputs.get("context_id") or job.job_id)
    status = TaskStatus(state=TaskState.TASK_STATE_WORKING)
    status.timestamp.FromNanoseconds(int(at * 1e9))
    return TaskStatusUpdateEvent(task_id=job.job_id, context_id=context_id, status=status)


def artifact_event(job: v.JobView) -> TaskArtifactUpdateEvent:
    """The output artifact of a succeeded job, in one chunk."""
    context_id = str(job.inputs.get("context_id") or job.job_id)
    return TaskArtifactUpdateEvent(
        task_id=job.job_id, context_id=context_id, artifact=_artifact(job), last_chunk=True
    )


def _status(job: v.JobView, context_id: str) -> TaskStatus:
    status = TaskStatus(state=STATES.get(str(job.status), TaskState.TASK_STATE_UNSPECIFIED))
    status.timestamp.FromNanoseconds(int(job.updated_at * 1e9))
    if job.status == "succeeded":
        status.message.CopyFrom(_agent_message(job, context_id, _parts(_output(job))))
    elif job.status in ("failed", "cancelled") and job.error:
        status.message.CopyFrom(_agent_message(job, context_id, [Part(text=job.error)]))
    return status


def _output(job: v.JobView) -> Any:
    return (job.outputs or {}).get("output")


def _parts(value: Any) -> list[Part]:
    if isinstance(value, str):
        return [Part(text=value, media_type=_TEXT)]
    return [new_data_part(value, _JSON)]


def _artifact(job: v.JobView) -> Artifact:
    value = _output(job)
    parts = [new_data_part(value, _JSON)]
    if isinstance(value, str):
        parts.append(Part(text=value, media_type=_TEXT))
    return Artifact(artifact_id=ARTIFACT_ID, name="output", parts=parts)


def _user_message(job: v.JobView, context_id: str) -> Message:
    inputs = job.inputs
    value = inputs.get("input")
    if inputs.get("input_kind") == "text" and isinstance(value, str):
        part = Part(text=value)
    elif inputs.get("input_kind") == "text":
        part = Part(text=json.dumps(value, ensure_ascii=False))
    else:
        part = new_data_part(value)
    return Message(
        message_id=str(inputs.get("message_id") or f"{job.job_id}-in"),
        context_id=context_id,
        task_id=job.job_id,
        role=Role.ROLE_USER,
        parts=[part],
    )


def _agent_message(job: v.JobView, context_id: str, parts: list[Part]) -> Message:
    return Message(
        message_id=f"{job.job_id}-out",
        context_id=context_id,
        task_id=job.job_id,
        role=Role.ROLE_AGENT,
        parts=parts,
    )


def _whole(value: Any) -> Any:
    """A data part's value with whole numbers as integers again (a protobuf Value keeps
    every number as a double: 3 arrives as 3.0, which an integer schema refuses)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_whole(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole(item) for key, item in value.items()}
    return value
