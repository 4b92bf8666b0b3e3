"""Agent: a model, its instructions and the tools it may use."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    NonNegativeInt,
    PositiveInt,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agentgo_cli.manifests.models.common import Budget, JsonSchemaDoc, Manifest, Spec
from agentgo_cli.manifests.types import Duration, ModelRef

__all__ = ["AgentManifest", "AgentSpec", "ModelSpec", "ScriptEntry", "Shadow"]


class Shadow(Spec):
    """A model that receives a sampled copy of each call; its answer is compared, never used."""

    ref: ModelRef
    sample: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=1.0, description="Share of calls copied to the shadow model, 0 to 1."
    )


class ModelSpec(Spec):
    """The long form of an agent's model: parameters, failover chain and shadow."""

    ref: ModelRef
    params: dict[str, Any] = Field(default_factory=dict, description="Provider parameters.")
    fallbacks: list[ModelRef] = Field(default_factory=list, description="Failover chain.")
    shadow: Shadow | None = None


class ScriptTool(Spec):
    """A tool call the scripted model asks for."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ScriptEntry(Spec):
    """One turn of the offline scripted model: a reply or a tool call, optionally conditional."""

    when: str | None = Field(
        default=None, description="Regular expression on the latest user or tool message."
    )
    reply: Any = None
    tool: ScriptTool | None = None

    @field_validator("when")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise PydanticCustomError(
                    "regex", "invalid regular expression: {err}", {"err": str(exc)}
                ) from None
        return value

    @model_validator(mode="after")
    def _one_action(self) -> ScriptEntry:
        if (self.reply is None) == (self.tool is None):
            raise PydanticCustomError(
                "script_entry", "a script entry needs exactly one of 'reply' or 'tool'"
            )
        return self


class Usage(Spec):
    """Token usage the scripted model reports per turn, for cost accounting."""

    input_tokens: NonNegativeInt = 0
    output_tokens: NonNegativeInt = 0


def _model_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "ModelRef"
    return "ModelSpec" if isinstance(value, dict) else None


ModelField = Annotated[
    Annotated[ModelRef, Tag("ModelRef")] | Annotated[ModelSpec, Tag("ModelSpec")],
    Discriminator(
        _model_tag,
        custom_error_type="model_field",
        custom_error_message="expected a model reference such as 'openai:gpt-4o-mini', or a "
        "mapping with 'ref'",
    ),
]


class AgentSpec(Spec):
    """What an agent is: model, instructions, tools, limits, and for scripted models a script."""

    model: ModelField
    instructions: str = ""
    tools: list[str] = Field(default_factory=list, description="Tool names or built-in tools.")
    max_turns: PositiveInt = Field(default=8, description="Model and tool round trips.")
    output_schema: JsonSchemaDoc | None = None
    budget: Budget | None = None
    script: list[ScriptEntry] | None = Field(default=None, description="scripted model only.")
    latency: Duration | None = Field(default=None, description="scripted model only.")
    usage: Usage | None = Field(default=None, description="scripted model only.")

    @property
    def model_ref(self) -> ModelRef:
        return self.model if isinstance(self.model, str) else self.model.ref

    @model_validator(mode="after")
    def _scripted_only(self) -> AgentSpec:
        if self.model_ref.provider != "scripted":
            used = [f for f in ("script", "latency", "usage") if getattr(self, f) is not None]
            if used:
                raise PydanticCustomError(
                    "scripted_only",
                    "'{field}' is only used by the scripted provider, and this agent's model "
                    "is '{model}'",
                    {"field": used[0], "model": str(self.model_ref)},
                )
        return self


class AgentManifest(Manifest):
    """An Agent manifest."""

    kind: Literal["Agent"]
    spec: AgentSpec
