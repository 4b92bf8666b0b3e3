"""Fixtures for provider tests: local wire servers and provider clients pointed at them."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from agentgo_cli.config import Secret
from agentgo_cli.llm.providers import Endpoint, make_client
from agentgo_cli.llm.providers.anthropic_messages import AnthropicMessages
from agentgo_cli.llm.providers.gemini_content import GeminiContent
from agentgo_cli.llm.providers.openai_chat import OpenAIChat
from tests.llm.wire_servers import DIALECTS, Dialect, WireServer

FAKE_KEY = "sk-test-FAKE-KEY-4f9c2a-do-not-leak"
"""A key no message, repr or log may ever show."""

Provider = OpenAIChat | AnthropicMessages | GeminiContent
MakeProvider = Callable[..., Provider]


@pytest.fixture
def wire_server() -> Iterator[Callable[[Dialect], WireServer]]:
    """Start a wire server for a dialect; every one started is closed after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda dialect: stack.enter_context(WireServer(dialect))


@pytest.fixture(params=DIALECTS, ids=lambda dialect: dialect.name)
def wire(
    request: pytest.FixtureRequest, wire_server: Callable[[Dialect], WireServer]
) -> WireServer:
    """A running server, once per dialect (OpenAI, Anthropic, Gemini)."""
    dialect: Dialect = request.param
    return wire_server(dialect)


@pytest.fixture
async def provider() -> AsyncIterator[MakeProvider]:
    """Make the provider client for a server, ``provider(server, timeout=..., key=...)``.

    ``provider=`` names another provider of the same wire format (litellm, ollama) and
    ``base_url=`` points it elsewhere. Every client made is closed after the test.
    """
    made: list[Provider] = []

    def make(
        server: WireServer,
        *,
        timeout: float = 2.0,
        key: str | None = FAKE_KEY,
        provider: str | None = None,
        base_url: str | None = None,
    ) -> Provider:
        secret = Secret(key, "${env:TEST_API_KEY}") if key is not None else None
        name = provider or server.dialect.name
        endpoint = Endpoint(name, secret, base_url or server.base_url, timeout)
        client = make_client(endpoint, server.dialect.model)
        assert isinstance(client, OpenAIChat | AnthropicMessages | GeminiContent)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL nothing listens on (a port just freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
