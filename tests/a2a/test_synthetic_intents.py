"""The synthetic ``<agent>.run`` intent of an agent without a Capability card: it takes the
task as text (enforced, exit 5 otherwise) and gives what the agent gives, its
``output_schema`` when it has one (issue 11 item 2). ``catalog show``, ``catalog list -o
json`` and the A2A export show the same schemas the call enforces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.helpers import Reason

Write = Callable[[str, str], Path]
runner = CliRunner()

CONFIG = """
profile: p
profiles:
  p: {store: 'sqlite:///state/agentgo.db', manifests: [./m]}
"""
APPROVAL = {
    "type": "object",
    "required": ["approved"],
    "properties": {"approved": {"type": "boolean"}},
}
MANIFESTS = f"""
apiVersion: agentgo/v1
kind: Agent
metadata: {{name: editor}}
spec:
  model: scripted:demo
  output_schema: {json.dumps(APPROVAL)}
  script:
    - reply: '{{"approved": true}}'
---
apiVersion: agentgo/v1
kind: Agent
metadata: {{name: greeter}}
spec:
  model: scripted:demo
  script:
    - reply: "hi ${{{{ input }}}}"
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(write: Write) -> Write:
    write("agentgo.yaml", CONFIG)
    write("m/all.yaml", MANIFESTS)
    return write


def test_an_agent_with_an_output_schema_answers_its_object(project: Write) -> None:
    code, out, err = invoke("call", "editor.run", "--input", "Review the draft.")
    assert (code, err.startswith("editor.run@1.0.0 in ")) == (0, True), err
    assert json.loads(out) == {"approved": True}


def test_the_call_record_holds_the_object(project: Write) -> None:
    code, out, err = invoke("call", "editor.run", "--input", "Review the draft.", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["output"] == {"approved": True}


def test_an_agent_without_an_output_schema_still_answers_text(project: Write) -> None:
    code, out, err = invoke("call", "greeter.run", "--input", "there", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["output"] == "hi there"


@pytest.mark.parametrize(
    ("given", "named"),
    [('{"task": "review"}', "'task'"), ("42", "42"), ('["a"]', "['a']"), ("null", "None")],
)
def test_the_input_is_text_and_anything_else_is_refused(
    project: Write, given: str, named: str
) -> None:
    code, out, err = invoke("call", "editor.run", "--input", given)
    assert (code, out) == (5, "")
    assert err.removesuffix("\n") == Reason("error: editor.run@1.0.0: invalid input: ", named)


def test_no_input_is_refused(project: Write) -> None:
    code, out, err = invoke("call", "greeter.run")
    assert (code, out) == (5, "")
    assert err.removesuffix("\n") == Reason("error: greeter.run@1.0.0: invalid input: ", "None")


def test_catalog_show_and_list_give_the_agents_schemas(project: Write) -> None:
    code, out, err = invoke("catalog", "list", "-o", "json")
    assert code == 0, err
    by_name = {row["name"]: row for row in json.loads(out)}
    assert by_name["editor.run"]["output"] == APPROVAL
    assert by_name["greeter.run"]["output"] == {"type": "string"}
    for row in by_name.values():
        assert row["input"]["type"] == "string"
    code, out, err = invoke("catalog", "show", "editor.run")
    assert code == 0, err
    lines = out.splitlines()
    output = lines[lines.index("  output:") + 1 : lines.index("  prompt:")]
    assert json.loads("\n".join(output)) == APPROVAL


def test_the_a2a_export_shows_the_same_schemas(project: Write) -> None:
    code, out, err = invoke("catalog", "export", "--format", "a2a")
    assert code == 0, err
    cards = {card["name"]: card for card in json.loads(out)}
    editor = cards["editor"]
    skill = editor["skills"][0]
    assert (skill["id"], skill["inputModes"], skill["outputModes"]) == (
        "editor.run",
        ["text/plain"],
        ["application/json"],
    )
    params = editor["capabilities"]["extensions"][0]["params"]
    (version,) = params["skills"]["editor.run"]["versions"]
    assert version["outputSchema"] == APPROVAL
    assert version["inputSchema"]["type"] == "string"
    assert cards["greeter"]["skills"][0]["outputModes"] == ["text/plain"]
