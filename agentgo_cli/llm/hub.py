"""Model clients for agents, made from the provider settings of agentgo.yaml.

The hub resolves each provider's key (``${env:…}``, ``${file:…}``, or the provider's usual
environment variable), builds one SDK client per provider and model, and wraps the agent's
model, its ``fallbacks`` and its ``shadow`` in one ReliableClient. Circuit breakers live in
the hub, so every job of a process shares them. A missing key is a ConfigError that names
the variable, raised by ``check`` before a job starts; no key is ever put in a message.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import ConfigError

if TYPE_CHECKING:
    from agentgo_cli.config import LoadedConfig, Secret
    from agentgo_cli.llm.base import ChatClient, Client
    from agentgo_cli.llm.cost import CallRecord, PriceTable
    from agentgo_cli.llm.providers import Endpoint
    from agentgo_cli.llm.reliability import Breakers, ReliableClient, Route, ShadowRecord
    from agentgo_cli.manifests.models.agent import AgentSpec
    from agentgo_cli.manifests.models.config import ProviderSettings

__all__ = ["KEY_VARIABLES", "ModelHub"]

KEY_VARIABLES = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "litellm": ("LITELLM_API_KEY",),
}
"""The environment variables each provider's SDK reads when the config names no key."""

_NEEDS_KEY = frozenset({"openai", "anthropic", "gemini"})
"""Providers that refuse calls without a key (a LiteLLM proxy or Ollama may not need one)."""

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class _Callbacks:
    on_call: Callable[[CallRecord], None] | None
    on_shadow: Callable[[ShadowRecord], None] | None


class ModelHub:
    """Clients for model references, per the provider settings (merged with the profile's)."""

    def __init__(
        self,
        settings: Mapping[str, ProviderSettings] | None = None,
        *,
        rng: random.Random | None = None,
        base: Path | None = None,
    ) -> None:
        self.settings = dict(settings or {})
        self.base = base
        """The config file's folder: relative ``${file:…}`` keys are read from there."""
        self._rng = rng or random.Random()
        self._endpoints: dict[str, Endpoint] = {}
        self._clients: dict[str, ChatClient] = {}
        self._prices: PriceTable | None = None
        self._breakers: Breakers | None = None

    @classmethod
    def from_config(cls, config: LoadedConfig) -> ModelHub:
        """The hub for a loaded config: top-level ``providers`` with the active profile's
        ``providers`` over them."""
        data = config.data
        if data is None:
            return cls()
        base = config.path.absolute().parent if config.path is not None else None
        settings = dict(data.providers)
        profile = config.profile()
        if profile is not None:
            for name, override in profile.providers.items():
                known = settings.get(name)
                settings[name] = override if known is None else known.merged(override)
        return cls(settings, base=base)

    # -- prices and keys --------------------------------------------------------------------

    @property
    def prices(self) -> PriceTable:
        if self._prices is None:
            from agentgo_cli.llm.cost import PriceTable

            overrides = {
                name: {
                    model: {"input": p.input, "output": p.output} for model, p in s.prices.items()
                }
                for name, s in self.settings.items()
                if s.prices
            }
            self._prices = PriceTable(overrides)
        return self._prices

    def key_source(self, provider: str) -> str | None:
        """Where the provider's key comes from, as a user may read it (never the key)."""
        setting = self.settings.get(provider)
        if setting is not None and setting.api_key is not None:
            return _shown_source(str(setting.api_key))
        for variable in KEY_VARIABLES.get(provider, ()):
            if variable in os.environ:
                return f"${{env:{variable}}}"
        return None

    def endpoint(self, provider: str) -> Endpoint:
        """How to reach ``provider``; ConfigError when its key cannot be read."""
        known = self._endpoints.get(provider)
        if known is not None:
            return known
        from agentgo_cli.llm.providers import DEFAULT_BASE_URLS, Endpoint

        setting = self.settings.get(provider)
        base_url = setting.base_url if setting is not None else None
        timeout = setting.timeout if setting is not None and setting.timeout else DEFAULT_TIMEOUT
        endpoint = Endpoint(
            provider,
            self._key(provider),
            base_url or DEFAULT_BASE_URLS.get(provider),
            timeout,
        )
        self._endpoints[provider] = endpoint
        return endpoint

    def _key(self, provider: str) -> Secret | None:
        from agentgo_cli.config import Secret, resolve_secret

        setting = self.settings.get(provider)
        if setting is not None and setting.api_key is not None:
            try:
                source = _shown_source(str(setting.api_key))
                return Secret(resolve_secret(str(setting.api_key), self.base), source)
            except ConfigError as exc:
                raise ConfigError(f"providers.{provider}.api_key: {exc}") from None
        for variable in KEY_VARIABLES.get(provider, ()):
            value = os.environ.get(variable)
            if value:
                return Secret(value, f"${{env:{variable}}}")
        if provider in _NEEDS_KEY:
            variables = " or ".join(KEY_VARIABLES[provider])
            raise ConfigError(
                f"no API key for provider '{provider}': set {variables}, or set "
                f"providers.{provider}.api_key in agentgo.yaml (e.g. "
                f"'${{env:{KEY_VARIABLES[provider][0]}}}')"
            )
        return None

    def secret_values(self) -> list[str]:
        """The provider keys this hub can resolve, for a Redactor (never raises, never logs).

        Keys named in the settings and the providers' usual environment variables; a key
        that cannot be read is left out.
        """
        found: list[str] = []
        for provider in sorted({*self.settings, *KEY_VARIABLES}):
            try:
                key = self._key(provider)
            except ConfigError:
                continue
            if key is not None:
                found.append(key.reveal())
        return found

    def check(self, refs: Iterable[str]) -> None:
        """Raise ConfigError (naming the variable) when a reference's provider has no key."""
        for ref in sorted(set(refs)):
            provider = ref.partition(":")[0]
            if provider != "scripted":
                try:
                    self.endpoint(provider)
                except ConfigError as exc:
                    raise ConfigError(f"model {ref}: {exc}") from None

    # -- clients ----------------------------------------------------------------------------

    def provider_client(self, ref: str) -> ChatClient:
        """The bare SDK client for a reference (no retries, no breaker), made once."""
        client = self._clients.get(ref)
        if client is None:
            from agentgo_cli.llm.providers import make_client

            provider, _, model = ref.partition(":")
            client = self._clients[ref] = make_client(self.endpoint(provider), model)
        return client

    def route(self, ref: str) -> Route:
        """One model of a failover chain, with its provider's limits."""
        from agentgo_cli.llm.reliability import (
            DEFAULT_STREAM_IDLE,
            BreakerPolicy,
            RetryPolicy,
            Route,
        )

        provider = ref.partition(":")[0]
        setting = self.settings.get(provider)
        endpoint = self.endpoint(provider)
        retries = DEFAULT_RETRIES
        idle = DEFAULT_STREAM_IDLE.get(provider, 60.0)
        breaker = BreakerPolicy()
        if setting is not None:
            if setting.max_retries is not None:
                retries = setting.max_retries
            if setting.stream_idle is not None:
                idle = setting.stream_idle.seconds
            if setting.breaker is not None:
                breaker = BreakerPolicy(
                    setting.breaker.failures, setting.breaker.reset_after.seconds
                )
        return Route(
            ref,
            self.provider_client(ref),
            endpoint.timeout,
            idle,
            RetryPolicy(max_attempts=retries + 1),
            breaker,
        )

    @property
    def breakers(self) -> Breakers:
        if self._breakers is None:
            from agentgo_cli.llm.reliability import Breakers

            self._breakers = Breakers()
        return self._breakers

    def client_for(
        self,
        spec: AgentSpec,
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        on_shadow: Callable[[ShadowRecord], None] | None = None,
    ) -> Client:
        """A client for one agent invocation: the scripted model as it is, a real model
        behind the reliability layer with its fallbacks and shadow."""
        ref = spec.model_ref
        if ref.provider == "scripted":
            from agentgo_cli.llm.scripted import ScriptedClient

            return ScriptedClient(spec, ref.model, price=self.prices.price("scripted", ref.model))
        return self.reliable(spec, on_call=on_call, on_shadow=on_shadow)

    def reliable(
        self,
        spec: AgentSpec,
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        on_shadow: Callable[[ShadowRecord], None] | None = None,
    ) -> ReliableClient:
        from agentgo_cli.llm.reliability import ReliableClient
        from agentgo_cli.manifests.models.agent import ModelSpec

        model: Any = spec.model
        refs = [str(spec.model_ref)]
        shadow = None
        sample = 1.0
        if isinstance(model, ModelSpec):
            refs += [str(r) for r in model.fallbacks]
            if model.shadow is not None:
                shadow = self.route(str(model.shadow.ref))
                sample = model.shadow.sample
        return ReliableClient(
            [self.route(r) for r in refs],
            breakers=self.breakers,
            prices=self.prices,
            shadow=shadow,
            shadow_sample=sample,
            on_call=on_call,
            on_shadow=on_shadow,
            rng=self._rng,
        )

    def refs_of(self, spec: AgentSpec) -> list[str]:
        """Every model an agent may call: its model, fallbacks and shadow."""
        from agentgo_cli.manifests.models.agent import ModelSpec

        refs = [str(spec.model_ref)]
        if isinstance(spec.model, ModelSpec):
            refs += [str(r) for r in spec.model.fallbacks]
            if spec.model.shadow is not None:
                refs.append(str(spec.model.shadow.ref))
        return refs

    async def aclose(self) -> None:
        """Close every SDK client made."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()


def _shown_source(api_key: str) -> str:
    """Where a configured key comes from, safe to print: a literal key is never shown."""
    from agentgo_cli.config import is_literal_key

    return "literal (in agentgo.yaml)" if is_literal_key(api_key) else api_key
