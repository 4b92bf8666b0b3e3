"""The manifest envelope and the pieces several kinds share."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt

from agentgo_cli.manifests.types import Name

__all__ = ["API_VERSION", "Budget", "JsonSchemaDoc", "Manifest", "Metadata", "Spec"]

API_VERSION = "agentgo/v1"

JsonSchemaDoc = dict[str, Any]
"""An embedded JSON Schema (draft 2020-12); checked against the meta-schema by validate."""


class Spec(BaseModel):
    """Base of every user-written model: unknown fields are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Metadata(Spec):
    """Who a manifest is: its name, and optional description and labels."""

    name: Name = Field(description="Unique per kind within a manifest set.")
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form string labels.")


class Budget(Spec):
    """A spending limit; exceeding it fails the step or job."""

    usd: NonNegativeFloat | None = Field(default=None, description="Cost limit in US dollars.")
    tokens: NonNegativeInt | None = Field(default=None, description="Token limit.")


class Manifest(Spec):
    """The envelope every manifest shares; each kind narrows ``kind`` and ``spec``."""

    api_version: Literal["agentgo/v1"] = Field(alias="apiVersion")
    kind: str
    metadata: Metadata
    spec: Any

    @property
    def name(self) -> str:
        return self.metadata.name
