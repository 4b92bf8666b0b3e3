"""The agentgo.yaml config file: profiles, feature flags and provider settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from agentgo_cli.manifests._text import did_you_mean
from agentgo_cli.manifests.models.common import Spec
from agentgo_cli.manifests.types import (
    PROVIDERS,
    STORE_PATTERN,
    URL_PATTERN,
    Duration,
    OneOf,
    SecretRef,
)

__all__ = [
    "API_SCOPES",
    "FEATURES",
    "BreakerSettings",
    "ConfigFile",
    "ModelPrice",
    "Profile",
    "ProviderSettings",
    "ServeSettings",
    "ServeToken",
    "TlsSettings",
    "TRACE_LEVELS",
    "TRACE_PAYLOAD_BYTES",
    "TraceLevel",
]

FEATURES = ("contract-net", "swarm")


def _known_provider(name: str) -> str:
    if name not in PROVIDERS:
        raise PydanticCustomError(
            "unknown_provider",
            "unknown provider '{name}'{hint} under providers",
            {"name": name, "hint": did_you_mean(name, PROVIDERS)},
        )
    return name


TraceLevel = Literal["full", "steps", "off"]
TRACE_LEVELS: tuple[TraceLevel, ...] = ("full", "steps", "off")
"""full: steps, attempts, model turns, tool calls and calls; steps: steps and attempts
only; off: nothing is recorded (no recorder is subscribed)."""

TRACE_PAYLOAD_BYTES = 16 * 1024
"""The default of a profile's ``trace_payload_bytes``: bytes of JSON a trace keeps of one
payload (messages, reply, arguments, result, traceback, …)."""


def _trace_level(value: Any) -> Any:
    """YAML reads a bare ``off`` as false (and ``on`` as true): take them as the levels meant."""
    if value is False:
        return "off"
    if value is True:
        return "full"
    return value


TraceLevelField = Annotated[
    TraceLevel,
    OneOf(TRACE_LEVELS, "trace level"),
    BeforeValidator(_trace_level),
]


class Profile(Spec):
    """Where commands run: an embedded store, or a remote server."""

    store: str | None = Field(
        default=None,
        pattern=STORE_PATTERN,
        description="'sqlite:///path' or 'postgresql://…'",
    )
    synchronous: Annotated[str, OneOf(("normal", "full"), "SQLite synchronous mode")] = "normal"
    poison_after: PositiveInt = Field(
        default=3,
        description="Fail a job as poisoned, instead of taking it again, once this many "
        "owners died while running it.",
    )
    trace: TraceLevelField = Field(
        default="steps",
        description="What jobs record for 'agentgo jobs trace': 'steps' (steps and attempts; "
        "the default), 'full' (also each model turn, tool call and call between agents, with "
        "their payloads; 'agentgo init' sets it) or 'off'.",
    )
    trace_payload_bytes: PositiveInt = Field(
        default=TRACE_PAYLOAD_BYTES,
        description="Bytes of JSON a trace keeps of one payload (messages, reply, arguments, "
        "result, traceback); a longer one is cut and marked as cut.",
    )
    manifests: list[str] = Field(default_factory=list, description="Folders and files to load.")
    server: str | None = Field(default=None, pattern=URL_PATTERN)
    token: SecretRef | None = None
    ca_certs: str | None = Field(
        default=None,
        description="With 'server: https://…': a CA bundle (PEM) to verify the server's "
        "certificate with instead of the system's, for a self-signed or private CA's "
        "certificate (relative to agentgo.yaml).",
    )
    providers: dict[Annotated[str, AfterValidator(_known_provider)], ProviderSettings] = Field(
        default_factory=dict,
        description="Provider settings for this profile, over the top-level 'providers'.",
    )

    @model_validator(mode="after")
    def _store_or_server(self) -> Profile:
        if self.store and self.server:
            raise PydanticCustomError(
                "profile_target", "a profile takes 'store' or 'server', not both"
            )
        return self


class ModelPrice(Spec):
    """What one model costs, in US dollars per million tokens."""

    input: NonNegativeFloat
    output: NonNegativeFloat


class BreakerSettings(Spec):
    """The circuit breaker kept per provider and model."""

    failures: PositiveInt = Field(
        default=5, description="Consecutive failed calls that open the circuit."
    )
    reset_after: Duration = Field(
        default=Duration("30s"), description="How long the circuit stays open before a trial."
    )


class ProviderSettings(Spec):
    """Settings of one LLM provider."""

    api_key: SecretRef | None = None
    base_url: str | None = Field(default=None, pattern=URL_PATTERN)
    timeout: PositiveFloat | None = Field(
        default=None, description="Seconds allowed for one call (default 60)."
    )
    max_retries: NonNegativeInt | None = Field(
        default=None, description="Retries after a failed call: 429, 5xx, network (default 2)."
    )
    stream_idle: Duration | None = Field(
        default=None,
        description="A stream with no token for this long is aborted "
        "(defaults: openai 30s, anthropic 60s, gemini 90s).",
    )
    breaker: BreakerSettings | None = None
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict, description="Per model: {input: usd/Mtok, output: usd/Mtok}."
    )

    def merged(self, override: ProviderSettings) -> ProviderSettings:
        """These settings with the fields ``override`` sets replacing them (prices merge)."""
        data = self.model_dump(exclude_unset=True)
        extra = override.model_dump(exclude_unset=True)
        prices = {**data.pop("prices", {}), **extra.pop("prices", {})}
        return ProviderSettings.model_validate({**data, **extra, "prices": prices})


API_SCOPES = ("agentgo:admin", "agentgo:impersonate")
"""Scopes a server token may hold that give rights over the API itself: ``agentgo:admin``
sees and steers every principal's jobs; ``agentgo:impersonate`` may run and call as another
principal (``--as``). Every other scope is an ACL scope that the token's jobs and calls carry."""


class ServeToken(Spec):
    """One bearer token that ``agentgo serve`` accepts, and whom it stands for."""

    token: SecretRef | None = Field(
        default=None,
        description="The token, usually '${env:NAME}' or '${file:path}'; held only as a "
        "SHA-256 digest once the server has read it.",
    )
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The token's SHA-256 digest (hex) instead of the token itself.",
    )
    principal: str = Field(
        pattern=r"^[a-z][a-z0-9-]*:[^\s]+$",
        description="Who the token's requests run as, e.g. 'user:alice' or 'service:ci'.",
    )
    scopes: list[str] = Field(
        default_factory=list,
        description="ACL scopes its jobs and calls carry, and the API scopes "
        "'agentgo:admin' (every principal's jobs) and 'agentgo:impersonate' (--as).",
    )

    @model_validator(mode="after")
    def _one_secret(self) -> ServeToken:
        if (self.token is None) == (self.sha256 is None):
            raise PydanticCustomError(
                "serve_token", "a token takes 'token' or 'sha256', one of them"
            )
        return self


class TlsSettings(Spec):
    """TLS for ``agentgo serve``, passed to uvicorn."""

    certfile: str
    keyfile: str
    keyfile_password: SecretRef | None = None
    ca_certs: str | None = Field(
        default=None, description="CA bundle to verify client certificates."
    )


class ServeSettings(Spec):
    """How ``agentgo serve`` listens and whom it lets in."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: NonNegativeInt = Field(
        default=1, description="In-process workers for queued jobs (0: an API-only node)."
    )
    tokens: list[ServeToken] = Field(default_factory=list)
    default_skill: str | None = Field(
        default=None,
        description="The intent an A2A message that names no skill goes to.",
    )
    anonymous_tasks: bool = Field(
        default=False,
        description="Callers without a token may list, read, follow and cancel the A2A "
        "tasks callers without a token started: all of them, as one principal (for test "
        "servers and conformance suites that send no token).",
    )
    max_body_bytes: PositiveInt = Field(
        default=1024 * 1024, description="Largest request body accepted (413 above it)."
    )
    request_timeout: PositiveFloat = Field(
        default=300.0,
        description="Seconds a request may take (a call, a run waiting for its job) before 504.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (none by default)."
    )
    tls: TlsSettings | None = None
    drain: NonNegativeFloat = Field(
        default=30.0,
        description="Seconds a stopping server waits for the steps in flight to finish "
        "before it gives their jobs up anyway (0: at once).",
    )


class ConfigFile(Spec):
    """The whole agentgo.yaml."""

    profile: str | None = Field(default=None, description="Active profile by default.")
    profiles: dict[str, Profile] = Field(default_factory=dict)
    features: list[Annotated[str, OneOf(FEATURES, "feature")]] = Field(default_factory=list)
    providers: dict[Annotated[str, AfterValidator(_known_provider)], ProviderSettings] = Field(
        default_factory=dict
    )
    serve: ServeSettings | None = Field(
        default=None, description="How 'agentgo serve' listens and whom it lets in."
    )

    @model_validator(mode="after")
    def _active_profile(self) -> ConfigFile:
        if self.profile is not None and self.profile not in self.profiles:
            error = PydanticCustomError(
                "unknown_profile",
                "profile '{name}' is not defined under profiles{hint}",
                {"name": self.profile, "hint": did_you_mean(self.profile, self.profiles)},
            )
            # Raised as a ValidationError so that the error points at the 'profile' field.
            raise ValidationError.from_exception_data(
                "ConfigFile", [InitErrorDetails(type=error, loc=("profile",), input=self.profile)]
            )
        return self
