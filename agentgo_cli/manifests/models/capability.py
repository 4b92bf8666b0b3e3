"""Capability card: the typed intents an agent or team offers to callers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from agentgo_cli.manifests.models.common import JsonSchemaDoc, Manifest, Spec
from agentgo_cli.manifests.types import TARGET_PATTERN, Duration, IntentName, OneOf, SemVer
from agentgo_cli.principal import (
    MAX_LENGTH,
    PRINCIPAL_GLOB_PATTERN,
    InvalidPrincipal,
    check_principal_glob,
)

__all__ = ["AclRule", "CapabilityManifest", "CapabilitySpec", "Intent", "RateLimit"]

CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")


class AclRule(Spec):
    """Who a rule matches: a principal glob and, optionally, scopes the caller must hold."""

    principal: str = Field(
        min_length=1,
        max_length=MAX_LENGTH,
        json_schema_extra={"pattern": PRINCIPAL_GLOB_PATTERN},
        description="Glob over principals (kind:name, any case), e.g. 'team:research/*'.",
    )
    scopes: list[str] = Field(default_factory=list)

    @field_validator("principal")
    @classmethod
    def _principal_glob(cls, value: str) -> str:
        try:
            return check_principal_glob(value)
        except InvalidPrincipal as exc:
            raise PydanticCustomError("principal_glob", str(exc).replace("{", "{{")) from None


class Acl(Spec):
    """Allow and deny rules; deny wins."""

    allow: list[AclRule] = Field(default_factory=list)
    deny: list[AclRule] = Field(default_factory=list)


class RateLimit(Spec):
    """A token bucket per caller principal."""

    requests: PositiveInt
    per: Duration
    burst: PositiveInt | None = None

    @model_validator(mode="after")
    def _per_is_a_while(self) -> RateLimit:
        if self.per.seconds <= 0:
            raise PydanticCustomError(
                "rate_limit_per", "rate_limit.per must be longer than 0s, e.g. 1m"
            )
        return self


class Example(Spec):
    """An example call, used by discovery and shown by `agentgo catalog show`."""

    input: Any
    output: Any = None
    description: str | None = None


class Intent(Spec):
    """One typed operation a target offers."""

    name: IntentName
    version: SemVer
    description: str = ""
    tags: list[str] = Field(default_factory=list, description="Words that help routing.")
    input: JsonSchemaDoc = Field(default_factory=lambda: {"type": "object"})
    output: JsonSchemaDoc | None = None
    prompt: str | None = Field(default=None, description="Task given to the target.")
    classification: Annotated[str, OneOf(CLASSIFICATIONS, "classification")] = "internal"
    acl: Acl | None = None
    rate_limit: RateLimit | None = None
    idempotency_ttl: Duration | None = None
    timeout: Duration | None = None
    examples: list[Example] = Field(default_factory=list)

    @model_validator(mode="after")
    def _restricted_needs_allow(self) -> Intent:
        if self.classification == "restricted" and (self.acl is None or not self.acl.allow):
            raise PydanticCustomError(
                "restricted_acl",
                "a 'restricted' intent needs an explicit acl.allow list",
            )
        return self


class CapabilitySpec(Spec):
    """The target that serves the intents, and the intents."""

    target: Annotated[str, Field(pattern=TARGET_PATTERN)] = Field(
        description="'agent:<name>' or 'team:<name>'"
    )
    intents: list[Intent] = Field(min_length=1)

    @property
    def target_kind(self) -> str:
        return "Agent" if self.target.startswith("agent:") else "Team"

    @property
    def target_name(self) -> str:
        return self.target.split(":", 1)[1]


class CapabilityManifest(Manifest):
    """A Capability manifest (capability card)."""

    kind: Literal["Capability"]
    spec: CapabilitySpec
