"""Principals as they enter on the command line (--as) and in Capability manifests: the
grammar of agentgo_cli/principal.py, case-insensitive, no forged log lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.a2a.test_lifecycle import CONFIG, MANIFESTS
from tests.engine import engine_tools
from tests.engine.engine_tools import seed_job

Write = Callable[[str, str], Path]
runner = CliRunner()

USAGE = (
    "write kind:name (user:alice, team:research/bob, service:ci) or anonymous; a name takes "
    "letters, digits and . _ @ + - with / between parts"
)
WF = """
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: hello}
spec:
  steps:
    - id: say
      tool: tally
      with: {label: x}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(write: Write) -> Write:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/all.yaml", MANIFESTS)
    write("m/wf.yaml", WF)
    return write


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("user:alice\nINFO step done", "user:alice\\nINFO step done"),
        ("user:alice\tx", "user:alice\\tx"),
        ("user:al ice", "user:al ice"),
        ("user:alice\r", "user:alice\\r"),
    ],
)
@pytest.mark.parametrize("command", [["run", "hello", "-q"], ["call", "greeter.run"]], ids=str)
def test_a_forged_principal_is_a_usage_error(
    project: Write, workdir: Path, command: list[str], given: str, shown: str
) -> None:
    code, out, err = invoke(*command, "--as", given)
    assert (code, out) == (2, "")
    assert err == f"error: --as: '{shown}' is not a principal: {USAGE}\n"


def test_principals_are_lowered_where_they_enter(project: Write) -> None:
    code, out, err = invoke("run", "hello", "-q", "--as", "User:Alice", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["principal"] == "user:alice"
    code, out, err = invoke(
        "call", "greeter.run", "--input", "hi", "--as", "Service:CI", "-o", "json"
    )
    assert code == 0, err
    assert json.loads(out)["principal"] == "service:ci"


def test_a_rule_outside_the_grammar_is_located_by_validate(write: Write) -> None:
    write(
        "m/cap.yaml",
        """
        apiVersion: agentgo/v1
        kind: Agent
        metadata: {name: a}
        spec: {model: "scripted:x"}
        ---
        apiVersion: agentgo/v1
        kind: Capability
        metadata: {name: a-card}
        spec:
          target: agent:a
          intents:
            - name: a.run
              version: 1.0.0
              acl: {deny: [{principal: "user:mallory x"}]}
        """,
    )
    code, out, _ = invoke("validate", "m")
    assert code == 1
    assert out.splitlines()[0] == (
        "m/cap.yaml:14:32: spec.intents[0].acl.deny[0].principal: 'user:mallory x' is not a "
        "principal glob: letters, digits, : . _ @ + - / and the wildcards * ?, at most 128 "
        "characters"
    )


def _seed(principal: str) -> str:
    """A queued job of 'ask' written straight into the store, as if for ``principal``."""
    return seed_job("ask", {}, status="queued", principal=principal, scopes=["research.read"])


def test_a_job_principal_from_the_store_is_checked_too(project: Write) -> None:
    from tests.a2a.test_lifecycle import CALLER

    project("m/ask.yaml", CALLER)
    forged = _seed("user:alice\nINFO forged")
    sub = _seed("User:Mallory/x")
    code, _, err = invoke("worker", "--once", "--poll", "0.05")
    assert code == 0, err
    code, out, _ = invoke("jobs", "show", forged)
    assert code == 0
    assert "\nINFO forged" not in out
    assert "runs for user:alice\\nINFO forged  scopes research.read" in out.splitlines()
    job = json.loads(invoke("jobs", "show", forged, "-o", "json")[1])
    assert job["status"] == "failed"
    assert "is not a principal" in job["error"]
    job = json.loads(invoke("jobs", "show", sub, "-o", "json")[1])
    assert job["status"] == "failed"
    assert "denied by acl.deny[0] (principal 'user:mallory')" in job["error"]
