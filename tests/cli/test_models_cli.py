"""agentgo models list | ping as the user runs them (ping against a local wire server)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.llm.conftest import FAKE_KEY
from tests.llm.wire_servers import OPENAI, Reply, WireServer

Write = Callable[[str, str], Path]
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer(OPENAI) as wire:
        yield wire


@pytest.fixture
def project(write: Write, server: WireServer, monkeypatch: pytest.MonkeyPatch) -> Write:
    monkeypatch.setenv("TEST_API_KEY", FAKE_KEY)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    write(
        "agentgo.yaml",
        f"""
        profile: p
        profiles:
          p: {{store: 'sqlite:///state/agentgo.db', manifests: [./m]}}
        providers:
          openai:
            api_key: "${{env:TEST_API_KEY}}"
            base_url: "{server.base_url}"
            prices: {{gpt-test: {{input: 1.5, output: 6}}}}
          anthropic: {{}}
        """,
    )
    write(
        "m/agents.yaml",
        """
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: writer}
        spec:
          model:
            ref: openai:gpt-test
            fallbacks: [anthropic:claude-haiku-4-5]
        ---
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: local}
        spec: {model: "ollama:llama3.2"}
        """,
    )
    return write


def test_list_shows_prices_keys_and_users(project: Write) -> None:
    code, out, err = invoke("models", "list")
    assert code == 0, err
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines["openai:gpt-test"][1:5] == ["1.5", "6", "config", "${env:TEST_API_KEY}"]
    assert lines["openai:gpt-test"][5:] == ["writer"]
    assert lines["anthropic:claude-haiku-4-5"][1:5] == ["1", "5", "default", "missing"]
    assert lines["ollama:llama3.2"][1:4] == ["0", "0", "free"]
    assert "openai:gpt-4o-mini" in lines  # the built-in table of a configured provider
    assert FAKE_KEY not in out


def test_list_json(project: Write) -> None:
    code, out, _ = invoke("models", "list", "-o", "json")
    assert code == 0
    rows = {r["ref"]: r for r in json.loads(out)}
    assert rows["openai:gpt-test"] == {
        "ref": "openai:gpt-test",
        "provider": "openai",
        "input_usd_per_mtok": 1.5,
        "output_usd_per_mtok": 6.0,
        "price_source": "config",
        "key": "${env:TEST_API_KEY}",
        "base_url": rows["openai:gpt-test"]["base_url"],
        "agents": ["writer"],
    }
    assert rows["anthropic:claude-haiku-4-5"]["agents"] == ["writer"]


def test_ping_answers_with_latency_tokens_and_cost(project: Write, server: WireServer) -> None:
    server.queue(Reply(OPENAI.text("pong", input_tokens=12, output_tokens=1)))
    code, out, err = invoke("models", "ping", "openai:gpt-test")
    assert code == 0, err
    assert out.startswith("openai:gpt-test: 'pong' in ")
    assert out.rstrip().endswith("ms, 12+1 tokens, $0.000024")
    (request,) = server.requests
    assert OPENAI.key_of(request.headers) == FAKE_KEY


def test_ping_json(project: Write, server: WireServer) -> None:
    server.queue(Reply(OPENAI.text("pong", input_tokens=12, output_tokens=1)))
    code, out, _ = invoke("models", "ping", "openai:gpt-test", "-o", "json")
    data = json.loads(out)
    assert (code, data["text"], data["input_tokens"], data["output_tokens"]) == (0, "pong", 12, 1)


def test_ping_without_a_key_names_the_variable(project: Write) -> None:
    code, out, err = invoke("models", "ping", "anthropic:claude-haiku-4-5")
    assert code == 2
    assert err.strip() == (
        "error: no API key for provider 'anthropic': set ANTHROPIC_API_KEY, or set "
        "providers.anthropic.api_key in agentgo.yaml (e.g. '${env:ANTHROPIC_API_KEY}')"
    )


def test_ping_reports_a_provider_error_once(project: Write, server: WireServer) -> None:
    server.queue(OPENAI.error_reply(500, "boom"))
    code, _, err = invoke("models", "ping", "openai:gpt-test")
    assert code == 1
    assert err.startswith("error: openai:gpt-test: server error (HTTP 500)")
    assert len(server.requests) == 1  # no retries
    assert FAKE_KEY not in err


@pytest.mark.parametrize("ref", ["gpt-4o", "opnai:gpt-4o", "openai:"])
def test_ping_refuses_what_is_not_a_model_reference(project: Write, ref: str) -> None:
    code, _, err = invoke("models", "ping", ref)
    assert code == 2
    assert f"'{ref}' is not a model reference" in err


def test_ping_of_a_scripted_model_is_a_usage_error(project: Write) -> None:
    code, _, err = invoke("models", "ping", "scripted:demo")
    assert (code, err.strip()) == (
        2,
        "error: scripted models answer offline from a script; nothing to ping",
    )
