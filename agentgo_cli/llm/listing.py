"""What `agentgo models list` shows: the providers' models, their prices and key sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentgo_cli.errors import ConfigError

if TYPE_CHECKING:
    from agentgo_cli.llm.hub import ModelHub

__all__ = ["ModelInfo", "model_rows"]


@dataclass
class ModelInfo:
    """One model as ``agentgo models list`` shows it."""

    ref: str
    provider: str
    input_usd_per_mtok: float | None
    output_usd_per_mtok: float | None
    price_source: str
    """'default' (the built-in table), 'config' (agentgo.yaml), 'free' or 'unpriced'."""
    key: str | None
    """Where the provider's key comes from (e.g. '${env:OPENAI_API_KEY}'), never the key."""
    base_url: str | None
    agents: list[str]
    """Agents of the manifest set that use the model (as model, fallback or shadow)."""


def model_rows(hub: ModelHub, used: dict[str, list[str]]) -> list[ModelInfo]:
    """The models of the configured providers and of ``used`` (ref → agents), by ref."""
    rows: dict[str, ModelInfo] = {}
    providers = set(hub.settings) | {r.partition(":")[0] for r in used}
    for row in hub.prices.rows():
        if row.provider in providers:
            ref = f"{row.provider}:{row.model}"
            source = "free" if row.provider in ("ollama", "scripted") else row.source
            rows[ref] = _model_info(hub, ref, row.price, source, used)
    for ref in used:
        if ref not in rows:
            provider, _, model = ref.partition(":")
            price = hub.prices.price(provider, model)
            if price is None:
                source = "unpriced"
            elif provider in ("ollama", "scripted"):
                source = "free"
            else:
                source = "default"
            rows[ref] = _model_info(hub, ref, price, source, used)
    return [rows[r] for r in sorted(rows)]


def _model_info(
    hub: ModelHub, ref: str, price: Any, source: str, used: dict[str, list[str]]
) -> ModelInfo:
    from agentgo_cli.llm.providers import DEFAULT_BASE_URLS

    provider = ref.partition(":")[0]
    setting = hub.settings.get(provider)
    base_url = (setting.base_url if setting else None) or DEFAULT_BASE_URLS.get(provider)
    return ModelInfo(
        ref,
        provider,
        price.input_per_mtok if price is not None else None,
        price.output_per_mtok if price is not None else None,
        source,
        _key_state(hub, provider),
        base_url,
        used.get(ref, []),
    )


def _key_state(hub: ModelHub, provider: str) -> str | None:
    """Where a provider's key comes from, marked '(not set)' when it cannot be read."""
    if provider in ("scripted", "ollama"):
        return hub.key_source(provider)
    source = hub.key_source(provider)
    if source is None:
        return None
    try:
        hub.endpoint(provider)
    except ConfigError:
        return f"{source} (not set)"
    return source
