"""Literal tool arguments and call inputs are checked against the required fields."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import error_lines, validate_files

SET = """
apiVersion: agentgo/v1
kind: Tool
metadata: {name: wc}
spec:
  input: {type: object, required: [text], properties: {text: {type: string}}}
  runtime: {type: python, entrypoint: "m:f"}
---
apiVersion: agentgo/v1
kind: Agent
metadata: {name: a}
spec: {model: "scripted:x"}
---
apiVersion: agentgo/v1
kind: Capability
metadata: {name: c}
spec:
  target: agent:a
  intents:
    - {name: x.y, version: 1.0.0, input: {type: object, required: [topic]}}
    - {name: x.y, version: 2.0.0, input: {type: object, required: [subject]}}
---
apiVersion: agentgo/v1
kind: Workflow
metadata: {name: w}
spec:
  steps:
"""


def test_missing_arguments_and_inputs(workdir: Path) -> None:
    steps = """\
    - {id: s1, tool: wc, with: {txt: hi}}
    - {id: s2, tool: wc}
    - {id: s3, call: x.y@^1, input: {subject: 1}}
    - {id: s4, call: x.y, input: {topic: 1}}
"""
    mset = validate_files({"m.yaml": SET + steps}, workdir)
    assert error_lines(mset) == [
        "m.yaml:27:32: spec.steps[0].with: missing required argument 'text' for tool 'wc'",
        "m.yaml:28:22: spec.steps[1].tool: missing required argument 'text' for tool 'wc'",
        "m.yaml:29:37: spec.steps[2].input: missing required input 'topic' for intent 'x.y@^1'",
        "m.yaml:30:34: spec.steps[3].input: missing required input 'subject' for intent 'x.y'",
    ]


def test_expressions_and_complete_literals_pass(workdir: Path) -> None:
    steps = """\
    - {id: s1, tool: wc, with: {text: hi}}
    - {id: s2, call: x.y@^1, input: {topic: t}}
    - {id: s3, call: x.y@2, input: "${{ steps.s1.output }}"}
    - {id: s4, call: a.run@^1, input: "${{ steps.s1.output }}"}
"""
    mset = validate_files({"m.yaml": SET + steps}, workdir)
    # 'a' has a card, so it has no synthetic a.run intent.
    assert error_lines(mset) == ["m.yaml:30:22: spec.steps[3].call: unknown intent 'a.run'"]


def test_misspelt_envelope_fields_are_named(workdir: Path) -> None:
    text = 'apiversion: agentgo/v1\nKind: Agent\nmetadata: {name: a}\nspec: {model: "scripted:x"}\n'
    mset = validate_files({"m.yaml": text}, workdir)
    assert error_lines(mset) == [
        "m.yaml:1:1: missing required field 'apiVersion' (expected 'agentgo/v1'); "
        "is 'apiversion' a misspelling of it?",
        "m.yaml:1:1: missing required field 'kind' ('Agent', 'Tool', 'Capability', 'Team' or "
        "'Workflow'); is 'Kind' a misspelling of it?",
    ]


def test_any_version_range_form_reaches_the_range_check(workdir: Path) -> None:
    steps = """\
    - {id: s1, call: "x.y@1.x", input: {topic: t}}
    - {id: s2, call: "x.y@~~1", input: {topic: t}}
"""
    mset = validate_files({"m.yaml": SET + steps}, workdir)
    assert error_lines(mset) == [
        "m.yaml:28:22: spec.steps[1].call: invalid version range '~~1'",
    ]
