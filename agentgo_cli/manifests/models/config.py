"""The agentgo.yaml config file: profiles, feature flags and provider settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from agentgo_cli.manifests._text import did_you_mean
from agentgo_cli.manifests.models.common import Spec
from agentgo_cli.manifests.types import PROVIDERS, STORE_PATTERN, URL_PATTERN, OneOf, SecretRef

__all__ = ["FEATURES", "ConfigFile", "Profile", "ProviderSettings"]

FEATURES = ("contract-net", "swarm")


class Profile(Spec):
    """Where commands run: an embedded store, or a remote server."""

    store: str | None = Field(
        default=None,
        pattern=STORE_PATTERN,
        description="'sqlite:///path' or 'postgresql://…'",
    )
    synchronous: Annotated[str, OneOf(("normal", "full"), "SQLite synchronous mode")] = "normal"
    manifests: list[str] = Field(default_factory=list, description="Folders and files to load.")
    server: str | None = Field(default=None, pattern=URL_PATTERN)
    token: SecretRef | None = None

    @model_validator(mode="after")
    def _store_or_server(self) -> Profile:
        if self.store and self.server:
            raise PydanticCustomError(
                "profile_target", "a profile takes 'store' or 'server', not both"
            )
        return self


class ProviderSettings(Spec):
    """Settings of one LLM provider."""

    api_key: SecretRef | None = None
    base_url: str | None = Field(default=None, pattern=URL_PATTERN)
    timeout: PositiveFloat | None = None
    max_retries: PositiveInt | None = None
    prices: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Per model: {input: usd/Mtok, output: usd/Mtok}."
    )


def _known_provider(name: str) -> str:
    if name not in PROVIDERS:
        raise PydanticCustomError(
            "unknown_provider",
            "unknown provider '{name}'{hint} under providers",
            {"name": name, "hint": did_you_mean(name, PROVIDERS)},
        )
    return name


class ConfigFile(Spec):
    """The whole agentgo.yaml."""

    profile: str | None = Field(default=None, description="Active profile by default.")
    profiles: dict[str, Profile] = Field(default_factory=dict)
    features: list[Annotated[str, OneOf(FEATURES, "feature")]] = Field(default_factory=list)
    providers: dict[Annotated[str, AfterValidator(_known_provider)], ProviderSettings] = Field(
        default_factory=dict
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
