"""Workflow: steps run in order on the durable engine, with inputs and outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PositiveInt
from pydantic_core import PydanticCustomError

from agentgo_cli.manifests._text import quote_list
from agentgo_cli.manifests.models._union import tagged_union
from agentgo_cli.manifests.models.common import Budget, JsonSchemaDoc, Manifest, Spec
from agentgo_cli.manifests.types import CALL_PATTERN, Duration, ExprOr, Identifier, Name, OneOf

__all__ = [
    "KIND_STEP_FIELDS",
    "STEP_KINDS",
    "AgentStep",
    "CallStep",
    "ForeachStep",
    "LoopSpec",
    "LoopStep",
    "ParallelStep",
    "Retry",
    "Step",
    "TeamStep",
    "ToolStep",
    "ValueStep",
    "WorkflowManifest",
    "WorkflowSpec",
]

STEP_KINDS = ("agent", "tool", "call", "team", "foreach", "loop", "parallel", "value")

KIND_STEP_FIELDS: dict[str, dict[str, Any]] = {
    "loop": {"exhausted": False},
    "foreach": {"errors": []},
}
"""The fields of ``steps.<id>`` that only one step kind has (beyond output, status and
error), by kind, with their values when the step recorded none."""

Condition = Annotated[Any, ExprOr((bool,), "a boolean", {"type": "boolean"})]
ListOrExpr = Annotated[Any, ExprOr((list,), "a list", {"type": "array"})]
if TYPE_CHECKING:
    Step = Any


class Retry(Spec):
    """How a failed step is retried: attempts and backoff (full jitter)."""

    max_attempts: PositiveInt = 3
    backoff: Annotated[str, OneOf(("exponential", "fixed"), "backoff")] = "exponential"
    initial: Duration = Field(default=Duration("1s"))
    max: Duration = Field(default=Duration("30s"))


class StepBase(Spec):
    """Fields every step kind takes."""

    id: Identifier = Field(description="Unique in the workflow; used as steps.<id>.")
    if_: Condition = Field(default=None, alias="if", description="Skip the step unless true.")
    retry: Retry | None = None
    timeout: Duration | None = None
    continue_on_error: bool = False


class AgentStep(StepBase):
    """Run an agent on a prompt and/or an input value."""

    agent: Name
    prompt: str | None = None
    input: Any = None


class ToolStep(StepBase):
    """Call a tool with arguments."""

    tool: str = Field(min_length=1)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class CallStep(StepBase):
    """A typed A2A call through the full call lifecycle: 'intent' or 'intent@range'."""

    call: str = Field(pattern=CALL_PATTERN, description="e.g. 'factcheck.verify@^1'")
    input: Any = None


class TeamStep(StepBase):
    """Run a team on an input."""

    team: Name
    input: Any = None


class ForeachStep(StepBase):
    """Run the body once per item; the output is the list of each body's last output."""

    foreach: ListOrExpr
    as_: Identifier = Field(default="item", alias="as", description="Name of the item variable.")
    max_concurrency: PositiveInt | None = None
    on_item_error: Annotated[str, OneOf(("continue", "fail"), "on_item_error action")] = Field(
        default="fail",
        description="fail: a failed item fails the foreach (the other items are stopped). "
        "continue: every item runs; a failed item's element of the output is null and "
        "steps.<id>.errors lists {index, step, error} per failed item.",
    )
    steps: list[Step] = Field(min_length=1)


class LoopSpec(Spec):
    """Repeat the body until a condition holds or the iterations run out."""

    max_iterations: PositiveInt
    until: Condition = None
    on_exhausted: Annotated[str, OneOf(("fail", "succeed"), "on_exhausted action")] = Field(
        default="succeed",
        description="What a loop whose until never held in max_iterations does: succeed "
        "(recorded as exhausted: steps.<id>.exhausted is true) or fail.",
    )
    steps: list[Step] = Field(min_length=1)


class LoopStep(StepBase):
    """Repeat a body; the output is the last iteration's last output."""

    loop: LoopSpec


class ParallelStep(StepBase):
    """Run branches at once; the output is an object keyed by branch id."""

    parallel: list[Step] = Field(min_length=1)
    max_concurrency: PositiveInt | None = None


class ValueStep(StepBase):
    """Compute a value (an expression, or any JSON with expressions inside); the output is
    that value."""

    value: Any = Field(description="Any JSON value; ${{ }} expressions in it are evaluated.")


_STEP_CLASSES: dict[str, type] = {
    "agent": AgentStep,
    "tool": ToolStep,
    "call": CallStep,
    "team": TeamStep,
    "foreach": ForeachStep,
    "loop": LoopStep,
    "parallel": ParallelStep,
    "value": ValueStep,
}


def _choose_step(value: dict[str, Any]) -> type:
    found = [k for k in STEP_KINDS if k in value]
    if len(found) == 1:
        return _STEP_CLASSES[found[0]]
    if not found:
        raise PydanticCustomError(
            "step_kind", "a step needs one of {known}", {"known": quote_list(STEP_KINDS)}
        )
    raise PydanticCustomError(
        "step_kind",
        "a step takes exactly one of {known}, found {found}",
        {"known": quote_list(STEP_KINDS), "found": " and ".join(f"'{f}'" for f in found)},
    )


if not TYPE_CHECKING:
    Step = tagged_union(list(_STEP_CLASSES.values()), _choose_step)


class WorkflowSpec(Spec):
    """Inputs, limits, steps and outputs of a workflow."""

    inputs: dict[Identifier, JsonSchemaDoc] = Field(
        default_factory=dict, description="JSON Schema per input; defaults apply."
    )
    timeout: Duration | None = None
    max_concurrency: PositiveInt | None = None
    budget: Budget | None = None
    steps: list[Step] = Field(min_length=1)
    outputs: dict[str, Any] = Field(default_factory=dict)


ForeachStep.model_rebuild()
LoopSpec.model_rebuild()
ParallelStep.model_rebuild()


class WorkflowManifest(Manifest):
    """A Workflow manifest."""

    kind: Literal["Workflow"]
    spec: WorkflowSpec
