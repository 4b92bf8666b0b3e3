"""`agentgo jobs show` and `jobs logs` of an exhausted loop, a foreach going on past failed
items, and a nested failure (issue 11, items 7 to 9), as the user reads them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentgo_cli.cli.app import app
from tests.engine import engine_tools
from tests.engine.engine_tools import COMMON, CONFIG, workflow

Write = Callable[[str, str], Path]

runner = CliRunner()

SEMANTICS = """
steps:
  - id: spin
    loop:
      max_iterations: 2
      until: ${{ false }}
      steps: [{id: turn, value: "${{ loop.iteration }}"}]
  - id: each
    foreach: [1, 2, 3]
    on_item_error: continue
    steps:
      - {id: bad, if: "${{ item != 2 }}", tool: boom, with: {reason: "no ${{ item }}"}}
  - id: outer
    foreach: [1]
    steps:
      - {id: inner, tool: boom, with: {reason: "deep"}}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def job_id(write: Write) -> str:
    engine_tools.reset()
    write("agentgo.yaml", CONFIG)
    write("m/common.yaml", COMMON)
    workflow(write, SEMANTICS)
    code, out, err = invoke("run", "wf", "-q", "--output", "json")
    assert code == 1, err
    found: str = json.loads(out)["job_id"]
    return found


def test_show_text_marks_the_exhausted_loop_and_the_failed_items(job_id: str) -> None:
    code, out, _ = invoke("jobs", "show", job_id)
    assert code == 0
    took = r"\d+\.\d{3}s"
    lines = out.splitlines()
    assert lines[4] == "error: step 'outer[0].inner' failed: tool 'boom' raised ValueError: deep"
    expected = [
        rf"spin \(loop\) succeeded {took} exhausted",
        rf"  spin#1\.turn \(value\) succeeded {took}",
        rf"  spin#2\.turn \(value\) succeeded {took}",
        rf"each \(foreach\) succeeded {took} 2 items failed",
        r"  each\[\d\]\.bad \(tool\) .*",
        r"  each\[\d\]\.bad \(tool\) .*",
        r"  each\[\d\]\.bad \(tool\) .*",
        rf"outer \(foreach\) failed {took}: step 'outer\[0\]\.inner' failed: tool 'boom' "
        r"raised ValueError: deep",
        rf"  outer\[0\]\.inner \(tool\) failed {took}: tool 'boom' raised ValueError: deep",
    ]
    assert len(lines) == 5 + len(expected), out
    for line, pattern in zip(lines[5:], expected, strict=True):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_show_json_has_exhausted_and_the_item_errors(job_id: str) -> None:
    code, out, _ = invoke("jobs", "show", job_id, "-o", "json")
    assert code == 0
    steps = {s["key"]: s for s in json.loads(out)["steps"]}
    assert (steps["spin"]["exhausted"], steps["spin"]["errors"]) == (True, [])
    assert steps["each"]["exhausted"] is False
    assert steps["each"]["errors"] == [
        {"index": 0, "step": "each[0].bad", "error": "tool 'boom' raised ValueError: no 1"},
        {"index": 2, "step": "each[2].bad", "error": "tool 'boom' raised ValueError: no 3"},
    ]


def test_logs_say_each_failure_once(job_id: str) -> None:
    code, out, _ = invoke("jobs", "logs", job_id)
    assert code == 0
    messages = [line.split(None, 3)[-1] for line in out.splitlines()]  # after time, kind
    assert [m for m in messages if "failed" in m or "stopped" in m] == [
        "loop 'spin' stopped after 2 iterations without meeting until",
        "each[0].bad failed: tool 'boom' raised ValueError: no 1",
        "each[2].bad failed: tool 'boom' raised ValueError: no 3",
        "outer[0].inner failed: tool 'boom' raised ValueError: deep",
        "failed: step 'outer[0].inner' failed: tool 'boom' raised ValueError: deep",
    ]
