"""Intents served by a remote A2A agent (``target: a2a:http://127.0.0.1:…``), called with the
official a2a-sdk client: through `agentgo call` and a workflow `call:` step, over JSON-RPC and
HTTP+JSON, with every local check before the request and the output checked after.

The remote agent is ``tests.a2a.fake_a2a``: the a2a-sdk's own server with an echoing
executor, on loopback, recording each request it gets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.a2a.fake_a2a import SLOW_SECONDS, USAGE, FakeAgent, RunningAgent

Write = Callable[[str, str], Path]
runner = CliRunner()
TOKEN = "partner-secret-7f3a"

CONFIG = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
"""

CARD = """
apiVersion: agentgo/v1
kind: Capability
metadata: {name: partner}
spec:
  target: a2a:URL
  auth: {token: "${env:PARTNER_TOKEN}"}
  intents:
    - name: partner.echo
      version: 1.0.0
      input: {type: object, required: [text], properties: {text: {type: string}}}
      output: {type: object, required: [echo, skill]}
      timeout: 20s
    - name: partner.text
      version: 1.0.0
      input: {type: string}
      output: {type: object}
    - name: partner.fail
      version: 1.0.0
    - name: partner.reject
      version: 1.0.0
    - name: partner.usage
      version: 1.0.0
    - name: partner.slow
      version: 1.0.0
      timeout: 1s
    - name: partner.missing
      version: 1.0.0
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: relay}
spec:
  inputs:
    text: {type: string, default: hi}
  steps:
    - id: ask
      call: partner.echo@^1
      input: {text: "${{ inputs.text }}"}
  outputs:
    answer: ${{ steps.ask.output.echo.text }}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(params=["JSONRPC", "HTTP+JSON"])
def partner(
    request: pytest.FixtureRequest, write: Write, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeAgent]:
    """The fake agent offering one binding, and a project whose card targets it."""
    running = RunningAgent(FakeAgent(token=TOKEN, bindings=(request.param,)))
    monkeypatch.setenv("PARTNER_TOKEN", TOKEN)
    write("agentgo.yaml", CONFIG)
    write("m/partner.yaml", CARD.replace("URL", running.agent.url))
    try:
        yield running.agent
    finally:
        running.stop()


def test_agentgo_call_sends_the_input_to_the_skill_and_prints_its_output(
    partner: FakeAgent,
) -> None:
    code, out, err = invoke("call", "partner.echo", "-i", "text=hello", "-o", "json")
    assert code == 0, err
    record = json.loads(out)
    assert record["output"] == {"echo": {"text": "hello"}, "skill": "partner.echo"}
    assert record["target"] == f"a2a:{partner.url}"
    assert (record["tokens"], record["cost_usd"]) == (0, 0.0)
    assert partner.messages == [{"skill": "partner.echo", "input": {"text": "hello"}}]
    sent = partner.calls()
    assert sent and {r.authorization for r in sent} == {f"Bearer {TOKEN}"}
    assert {r.traceparent for r in sent} == {record["traceparent"]}
    assert TOKEN not in out + err


def test_a_workflow_call_step_reaches_the_remote_agent(partner: FakeAgent) -> None:
    code, out, err = invoke("run", "m/partner.yaml", "-i", "text=from a step", "-o", "json")
    assert code == 0, err
    job = json.loads(out)
    assert job["status"] == "succeeded"
    assert job["outputs"] == {"answer": "from a step"}
    assert partner.messages == [{"skill": "partner.echo", "input": {"text": "from a step"}}]


def test_a_text_input_goes_as_text_and_the_output_schema_is_checked_after(
    partner: FakeAgent,
) -> None:
    code, _, err = invoke("call", "partner.text", "--input", "plain words")
    assert code == 8, err
    assert "partner.text@1.0.0: invalid output" in err
    assert partner.messages == [{"skill": "partner.text", "input": "plain words"}]


def test_an_invalid_input_is_refused_before_any_request(partner: FakeAgent) -> None:
    code, _, err = invoke("call", "partner.echo", "--input", "{}")
    assert code == 5, err
    assert "partner.echo@1.0.0: invalid input" in err
    assert partner.requests == []


def test_a_failed_remote_task_is_a_failed_call(partner: FakeAgent) -> None:
    code, _, err = invoke("call", "partner.fail", "--input", "{}")
    assert code == 1, err
    assert re.search(
        rf"partner.fail@1.0.0: the A2A agent at {re.escape(partner.url)} failed "
        r"\(task [^)]+\): the partner broke",
        err,
    ), err


def test_a_rejected_remote_task_is_a_denied_call(partner: FakeAgent) -> None:
    code, _, err = invoke("call", "partner.reject", "--input", "{}")
    assert code == 4, err
    assert "rejected the task" in err and "not for you" in err


def test_the_remotes_401_is_denied_and_the_token_never_shown(
    partner: FakeAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNER_TOKEN", "a-wrong-token-9c1")
    code, out, err = invoke("call", "partner.echo", "-i", "text=x")
    assert code == 4, err
    assert f"the A2A agent at {partner.url} refused the call (401)" in err
    assert "a-wrong-token-9c1" not in out + err
    assert partner.messages == []


def test_a_missing_token_variable_is_named(
    partner: FakeAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARTNER_TOKEN")
    code, _, err = invoke("call", "partner.echo", "-i", "text=x")
    assert code == 1, err
    assert "its card's auth.token: environment variable PARTNER_TOKEN is not set" in err
    assert partner.requests == []


def test_a_skill_the_remote_card_lacks_is_not_found(partner: FakeAgent) -> None:
    code, _, err = invoke("call", "partner.missing", "--input", "{}")
    assert code == 3, err
    assert f"the A2A agent at {partner.url} has no skill 'partner.missing'" in err
    assert partner.calls() == []


def test_the_callers_traceparent_reaches_the_remote(partner: FakeAgent) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = f"00-{trace}-00f067aa0ba902b7-01"
    code, out, err = invoke(
        "call", "partner.echo", "-i", "text=t", "--traceparent", parent, "-o", "json"
    )
    assert code == 0, err
    assert json.loads(out)["trace_id"] == trace
    sent = [r.traceparent for r in partner.calls()]
    assert sent and all(t is not None and t.split("-")[1] == trace for t in sent)
    assert parent not in sent  # the call's own span, a child of the caller's


def test_usage_the_remote_reports_is_counted(partner: FakeAgent) -> None:
    code, out, err = invoke("call", "partner.usage", "--input", "{}", "-o", "json")
    assert code == 0, err
    record = json.loads(out)
    tokens = USAGE["inputTokens"] + USAGE["outputTokens"]
    assert (record["tokens"], record["cost_usd"]) == (tokens, USAGE["costUsd"])


def test_the_intents_timeout_ends_a_slow_remote_call(partner: FakeAgent) -> None:
    assert SLOW_SECONDS > 2
    code, _, err = invoke("call", "partner.slow", "--input", "{}")
    assert code == 1, err
    assert "partner.slow@1.0.0: timed out after 1s" in err


@pytest.mark.parametrize("partner", ["JSONRPC"], indirect=True)
async def test_the_remote_card_is_fetched_once_per_process(partner: FakeAgent) -> None:
    from agentgo_cli.backend.local import LocalBackend
    from agentgo_cli.backend.views import CallRequest

    async with LocalBackend() as backend:
        for text in ("a", "b", "c"):
            await backend.call(CallRequest(intent="partner.echo", input={"text": text}))
    cards = [r for r in partner.requests if r.path.startswith("/.well-known/")]
    assert len(cards) == 1
    assert [m["input"]["text"] for m in partner.messages] == ["a", "b", "c"]


def test_an_agent_that_is_not_listening_is_a_failed_call(
    write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.setenv("PARTNER_TOKEN", TOKEN)

    with socket.socket() as sock:  # a loopback port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write("agentgo.yaml", CONFIG)
    write("m/partner.yaml", CARD.replace("URL", f"http://127.0.0.1:{port}"))
    code, _, err = invoke("call", "partner.fail", "--input", "{}", "--as", "user:x")
    assert code == 1, err
    assert f"cannot read the A2A agent card at http://127.0.0.1:{port}" in err


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"tokens": 160, "costUsd": 0.5}, (160, 0.5)),  # what agentgo serve reports
        ({"inputTokens": 7, "outputTokens": 5, "costUsd": 0.25}, (12, 0.25)),
        ({"input_tokens": 7, "output_tokens": 5, "cost_usd": 0.25}, (12, 0.25)),
        ({"tokens": -1, "costUsd": "free"}, (0, 0.0)),
    ],
)
def test_usage_a_remote_task_reports_is_counted(usage: dict[str, Any], expected: Any) -> None:
    from a2a.types.a2a_pb2 import Task
    from google.protobuf.struct_pb2 import Struct

    from agentgo_cli.a2a.remote import _usage

    metadata = Struct()
    metadata.update({"usage": usage})
    assert _usage(Task(id="t", metadata=metadata)) == expected
