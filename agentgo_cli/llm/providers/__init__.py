"""Real model providers: each translates the provider-neutral types of ``llm.base`` to and
from one wire format, through that provider's official SDK.

- ``openai``: the OpenAI Chat Completions API, also for ``litellm:`` and ``ollama:`` through
  their OpenAI-compatible endpoints (``base_url`` from the config);
- ``anthropic``: the Anthropic Messages API;
- ``gemini``: the Gemini API through google-genai.

Providers do not retry, break circuits, fail over or price anything: the reliability layer
(``llm.reliability``) does, once, for all of them. Every SDK is imported when its first
client is made, never at start-up. Every failure is a ProviderError with a ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentgo_cli.errors import ConfigError

if TYPE_CHECKING:
    from agentgo_cli.config import Secret
    from agentgo_cli.llm.base import ChatClient

__all__ = ["DEFAULT_BASE_URLS", "Endpoint", "make_client"]

DEFAULT_BASE_URLS = {"ollama": "http://localhost:11434/v1", "litellm": "http://localhost:4000"}
"""Where the OpenAI-compatible providers listen when the config names no ``base_url``."""


@dataclass(frozen=True)
class Endpoint:
    """How to reach one provider: its name, key, base URL and per-call timeout."""

    provider: str
    """openai | anthropic | gemini | litellm | ollama"""
    api_key: Secret | None
    base_url: str | None = None
    timeout: float = 60.0
    """Seconds for one HTTP request (the reliability layer also enforces it)."""


def make_client(endpoint: Endpoint, model: str) -> ChatClient:
    """A client for ``model`` at ``endpoint``, through the provider's SDK (imported now)."""
    provider = endpoint.provider
    if provider in ("openai", "litellm", "ollama"):
        from agentgo_cli.llm.providers.openai_chat import OpenAIChat

        return OpenAIChat(endpoint, model)
    if provider == "anthropic":
        from agentgo_cli.llm.providers.anthropic_messages import AnthropicMessages

        return AnthropicMessages(endpoint, model)
    if provider == "gemini":
        from agentgo_cli.llm.providers.gemini_content import GeminiContent

        return GeminiContent(endpoint, model)
    raise ConfigError(
        f"provider '{provider}' has no client (known: openai, anthropic, gemini, litellm, ollama)"
    )
