"""Capability card: the typed intents an agent or team offers to callers."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from agentgo_cli.manifests.models.common import JsonSchemaDoc, Manifest, Spec
from agentgo_cli.manifests.types import (
    TARGET_PATTERN,
    Duration,
    IntentName,
    OneOf,
    SecretRef,
    SemVer,
)
from agentgo_cli.principal import (
    MAX_LENGTH,
    PRINCIPAL_GLOB_PATTERN,
    InvalidPrincipal,
    check_principal_glob,
)

__all__ = ["AclRule", "CapabilityManifest", "CapabilitySpec", "Intent", "RateLimit", "RemoteAuth"]

CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
_SECRET_REF = re.compile(r"\$\{(env|file):[^}]*\}")
"""A ${env:NAME} or ${file:/path} reference (a token must be one, not the token itself)."""


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


class RemoteAuth(Spec):
    """How calls to a remote A2A agent authenticate: a bearer token read from a secret."""

    token: SecretRef = Field(
        description="The bearer token, as ${env:NAME} or ${file:/path}; read at each call."
    )

    @field_validator("token")
    @classmethod
    def _a_reference(cls, value: SecretRef) -> SecretRef:
        if _SECRET_REF.search(value) is None:
            raise PydanticCustomError(
                "literal_token",
                "write the token as a secret reference such as ${env:PARTNER_TOKEN} so "
                "that it stays out of the file",
            )
        return value


class CapabilitySpec(Spec):
    """The target that serves the intents, and the intents."""

    target: Annotated[str, Field(pattern=TARGET_PATTERN)] = Field(
        description="'agent:<name>', 'team:<name>', or 'a2a:https://host/path': a remote A2A "
        "agent (its card at <url>/.well-known/agent-card.json, or the URL itself when it "
        "ends in .json); plain http:// is for loopback and development only"
    )
    auth: RemoteAuth | None = Field(
        default=None, description="The bearer token for an a2a: target (none: anonymous)."
    )
    intents: list[Intent] = Field(min_length=1)

    @field_validator("target")
    @classmethod
    def _remote_url(cls, value: str) -> str:
        if value.startswith("a2a:"):
            problem = remote_url_problem(value[4:])
            if problem is not None:
                raise PydanticCustomError(
                    "a2a_url",
                    "invalid A2A URL '{url}': {problem}",
                    {"url": value[4:], "problem": problem},
                )
        return value

    @model_validator(mode="after")
    def _auth_is_for_remote(self) -> CapabilitySpec:
        if self.auth is not None and self.target_kind != "A2A":
            raise PydanticCustomError(
                "auth_target", "'auth' is only for a remote target (a2a:https://…)"
            )
        return self

    @property
    def target_kind(self) -> str:
        """'Agent', 'Team' or 'A2A' (a remote agent)."""
        kind = self.target.partition(":")[0]
        return {"agent": "Agent", "team": "Team"}.get(kind, "A2A")

    @property
    def target_name(self) -> str:
        return self.target.split(":", 1)[1]


class CapabilityManifest(Manifest):
    """A Capability manifest (capability card)."""

    kind: Literal["Capability"]
    spec: CapabilitySpec


def remote_url_problem(url: str) -> str | None:
    """What is wrong with the URL of a remote A2A agent, or None: an http(s) URL with a host,
    a valid port, no user or password (the token goes in ``auth``) and no fragment."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return str(exc).lower()
    if parts.scheme not in ("http", "https"):
        return "use https:// (or http:// on loopback for development)"
    if not parts.hostname:
        return "it names no host"
    if parts.username is not None or parts.password is not None:
        return "put no credentials in the URL; give the token in 'auth: {token: ${env:NAME}}'"
    if parts.fragment:
        return "a URL with a #fragment names no agent"
    if port == 0:
        return "port 0 is not a port to call"
    host = parts.hostname
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]|[0-9a-f:.]+", host):
        return f"'{host}' is not a host name"
    return None
