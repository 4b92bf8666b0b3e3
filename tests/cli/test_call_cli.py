"""agentgo call as the user runs it: the output, the call record, and an exit code per
refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.a2a.test_lifecycle import CONFIG, MANIFESTS
from tests.engine import engine_tools

Write = Callable[[str, str], Path]
runner = CliRunner()
ALICE = ("--as", "user:alice", "--scope", "research.read")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/all.yaml", MANIFESTS)
    return write


def test_call_prints_the_output(project: Write) -> None:
    code, out, err = invoke("call", "research.summarize", "--input", '{"topic": "x"}', *ALICE)
    assert code == 0, err
    assert json.loads(out) == {"summary": "Three sources agree."}
    assert err.startswith("research.summarize@1.2.0 in ")


def test_call_with_pairs_and_the_json_record(project: Write) -> None:
    code, out, err = invoke(
        "call", "research.summarize@^1", "-i", "topic=batteries", *ALICE, "-o", "json"
    )
    assert code == 0, err
    record = json.loads(out)
    assert record["output"] == {"summary": "Three sources agree."}
    assert record["chain"] == ["user:alice", "agent:summarizer"]
    assert record["principal"] == "user:alice"
    assert set(record) >= {"trace_id", "span_id", "traceparent", "cost_usd", "duration_s"}


def test_a_synthetic_intent_takes_text(project: Write) -> None:
    code, out, err = invoke("call", "greeter.run", "--input", "hello there")
    assert (code, out.strip()) == (0, "hi hello there"), err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("call", "research.nope", "--input", "{}"), 3, "no intent 'research.nope'"),
        (("call", "research.summarize", "--input", "{}", *ALICE), 5, "invalid input"),
        (
            ("call", "research.summarize", "-i", "topic=x", "--as", "user:mallory"),
            4,
            "user:mallory may not call it",
        ),
        (("call", "text.ramble", "--input", "{}"), 8, "invalid output"),
        (
            ("call", "research.summarize", "-i", "topic=x", *ALICE, "--traceparent", "00-zz"),
            2,
            "--traceparent: a traceparent is",
        ),
        (("call", "research.summarize", "-i", "topic", *ALICE), 2, "-i takes name=value"),
        (
            ("call", "research.summarize", "-i", "topic=x", "--as", "alice"),
            2,
            "--as: 'alice' is not a principal",
        ),
    ],
)
def test_each_refusal_has_its_exit_code(
    project: Write, args: tuple[str, ...], code: int, message: str
) -> None:
    got, _, err = invoke(*args)
    assert got == code
    assert message in err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert engine_tools.calls == {}


def test_idempotency_replay_and_conflict(project: Write) -> None:
    base = ("call", "research.digest", "--idempotency-key", "k")
    code, first, _ = invoke(*base, "-i", "topic=x")
    assert code == 0
    code, again, err = invoke(*base, "-i", "topic=x")
    assert (code, again, "replayed" in err) == (0, first, True)
    code, _, err = invoke(*base, "-i", "topic=y")
    assert code == 7 and "idempotency key 'k' was used with a different input" in err
    assert engine_tools.calls == {"summarizer": 1}


def test_the_rate_limit_refuses_with_retry_after(project: Write) -> None:
    for topic in ("x", "y"):
        assert invoke("call", "research.summarize", *ALICE, "-i", f"topic={topic}")[0] == 0
    code, _, err = invoke("call", "research.summarize", *ALICE, "-i", "topic=z")
    assert code == 6 and "retry after" in err
    assert engine_tools.calls == {"summarizer": 2}
