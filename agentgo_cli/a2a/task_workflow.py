"""A2A tasks as jobs: the one-step workflow that calls an intent for an A2A message.

An A2A task served by ``agentgo serve`` is a job like any other (``agentgo jobs`` lists,
shows, cancels and resumes it, and it outlives a restart of the server), so it needs a
workflow a worker can find again. That workflow is synthetic: ``a2a:<intent>@<version>``
(a name no manifest can take, so it never clashes with a user's workflow) has one ``call:``
step that calls that intent version with the job's ``input``, through the whole call
lifecycle, as the job's principal. ``Engine.workflow`` makes it on demand from the name,
so every engine of every process resolves it alike.

The job's inputs also keep what the task needs to be shown again as an A2A Task: the
message's id and context id, whether its input came as text or data, and the
``traceparent`` of the request (the job's calls continue that trace).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from agentgo_cli.a2a.trace import TraceContext, parse_traceparent
from agentgo_cli.errors import CallError

if TYPE_CHECKING:
    from agentgo_cli.a2a.catalog import CatalogEntry
    from agentgo_cli.manifests.models.workflow import WorkflowManifest

__all__ = [
    "PREFIX",
    "STEP",
    "call_workflow",
    "check_call",
    "intent_of",
    "job_trace",
    "workflow_name",
]

PREFIX = "a2a:"
"""What the names of the synthetic workflows start with (no manifest name has a colon)."""
STEP = "call"
"""The id of the one step of a synthetic workflow."""

_INPUTS: dict[str, dict[str, Any]] = {
    "input": {"description": "The value the intent is called with.", "default": None},
    "input_kind": {"type": "string", "enum": ["data", "text"], "default": "data"},
    "message_id": {"type": "string", "default": ""},
    "context_id": {"type": "string", "default": ""},
    "traceparent": {"type": "string", "default": ""},
}


def workflow_name(entry: CatalogEntry) -> str:
    """The synthetic workflow calling exactly this intent version: 'a2a:<name>@<version>'."""
    return f"{PREFIX}{entry.ref}"


def intent_of(workflow: str) -> str | None:
    """The intent reference a synthetic workflow calls ('name@version'), or None for any
    other workflow name."""
    if not workflow.startswith(PREFIX):
        return None
    return workflow.removeprefix(PREFIX) or None


def call_workflow(workflow: str) -> WorkflowManifest:
    """The synthetic workflow of that name (see the module docstring); ValueError when the
    name is not one (the caller says which workflow is missing)."""
    from agentgo_cli.manifests.models.workflow import WorkflowManifest

    ref = intent_of(workflow)
    if ref is None:
        raise ValueError(f"'{workflow}' is not an A2A task workflow")
    manifest = WorkflowManifest.model_validate(
        {
            "apiVersion": "agentgo/v1",
            "kind": "Workflow",
            "metadata": {
                "name": "a2a-task",  # a valid placeholder: the real name has a colon
                "description": f"An A2A task: one call of {ref}.",
            },
            "spec": {
                "inputs": _INPUTS,
                "steps": [{"id": STEP, "call": ref, "input": "${{ inputs.input }}"}],
                "outputs": {"output": f"${{{{ steps.{STEP}.output }}}}"},
            },
        }
    )
    named = manifest.metadata.model_copy(update={"name": workflow})
    return manifest.model_copy(update={"metadata": named})


def check_call(entry: CatalogEntry, value: Any, principal: str, scopes: frozenset[str]) -> None:
    """Refuse now, before a job is made, a call the lifecycle would refuse at once: input
    not valid against the intent's schema (CallError ``invalid_input``) or a caller its ACL
    does not admit (``denied``). The job's call checks both again (and quota, idempotency)."""
    from agentgo_cli.a2a.acl import Caller, check_access
    from agentgo_cli.tools.registry import schema_problem, validator_for

    problem = schema_problem(validator_for(entry.intent.input), value)
    if problem is not None:
        raise CallError("invalid_input", f"{entry.ref}: invalid input: {problem}")
    reason = check_access(entry.intent, Caller(principal, scopes, (principal,)))
    if reason is not None:
        raise CallError("denied", f"{entry.ref}: {principal} may not call it: {reason}")


def job_trace(workflow: str, inputs: dict[str, Any]) -> TraceContext:
    """The trace a job's calls continue: the request's ``traceparent`` for an A2A task that
    came with a valid one, else a new trace."""
    header = inputs.get("traceparent") if workflow.startswith(PREFIX) else None
    if isinstance(header, str) and header:
        with contextlib.suppress(ValueError):
            return parse_traceparent(header)
    return TraceContext.start()
